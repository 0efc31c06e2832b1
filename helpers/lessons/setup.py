"""What notebook 00 (architecture and setup) shows: where the credentials file is and what it holds
(section names and who reads them, never a value), that the app server's RAM key cannot even list the
bucket, the first upload's diagram with why its AssumeRole is there (or cached), and an anonymous
request OSS refuses.

Imports nothing from `helpers.localcloud`; reads the file only to name its sections.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import http_clients, stack
from helpers.client.results import raise_for_oss
from helpers.lessons.sts import diagram_with_sts_cache as first_upload_diagram
from helpers.protocol.endpoints import object_url  # the SDKs' URL style (path style on an IP or localhost)

if TYPE_CHECKING:
    from helpers.workbook import Book

__all__ = ["anonymous_get", "describe_credentials_file", "developer_key_cannot_list", "first_upload_diagram",
           "object_url"]

READERS = {
    "account_id": "the local cloud (the account that owns the bucket)",
    "admin": "`stack up` only: the account owner's key, to create the bucket and its CORS rule",
    "appserver": "the app server only: its RAM user's AccessKey (allowed nothing but sts:AssumeRole)",
    "role_arn": "the app server: the role it assumes",
    "app_users": "the app server: demo app users and their passwords",
    "ram": "the local cloud: RAM users, the role, their policies",
}


def describe_credentials_file(book: Book) -> None:
    """Where the credentials file is, its permissions and its sections (no value is printed)."""
    if book.target != "local":
        print("On Alibaba Cloud the app server reads its AccessKey from WORKBOOK_ACCESS_KEY_ID/SECRET "
              "in its own environment; this kernel's client never reads them.")
        return
    path = Path(stack.state_dir()) / "credentials.json"
    mode = stat.S_IMODE(path.stat().st_mode)
    print(f"credentials file: <state dir>/{path.name} (state dir: $WORKBOOK_STATE_DIR or .workbook/, "
          "git-ignored)")
    print(f"permissions: {mode:04o} (owner read/write only)")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for section in doc:
        print(f"  {section:<11} read by {READERS.get(section, '?')}")


def anonymous_get(book: Book, key: str) -> None:
    """GET an object with no credentials at all, as anyone on the internet could try."""
    url = object_url(book.oss_endpoint, book.bucket, key)
    raise_for_oss(http_clients.get(url, timeout=30))
    print("GET 200 — the object is public")


def developer_key_cannot_list(book: Book) -> None:
    """Sign a bucket listing with the app server's own RAM key (this kernel reads it from the
    credentials file, as the app server does) and show that OSS refuses it: the key is allowed
    nothing but sts:AssumeRole. Prints the refusal's status and code, never the key."""
    import oss2

    ak, secret = book.developer_key
    session = oss2.Session()
    book.recorder.install_requests(session.session, "OSS", source="Developer")
    bucket = oss2.Bucket(oss2.AuthV4(ak, secret), book.oss_endpoint, book.bucket, region=book.region,
                         session=session)
    try:
        bucket.list_objects(max_keys=1)
    except oss2.exceptions.ServerError as exc:
        print(f"ListObjects signed with the app server's RAM key: refused, {exc.status} {exc.code} "
              "(the key may only call sts:AssumeRole)")
        return
    print("ListObjects signed with the app server's RAM key went through: the key can do more than "
          "AssumeRole, which it should not")
