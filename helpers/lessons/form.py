"""What notebook 03 (表单上传, PostObject) shows: the form fields (signature and token masked), the
decoded policy (it holds no secret), and the same form posted with one field or the file changed.

    masked_fields(policy)                 rows field/value, secrets masked
    conditions(policy)                    the decoded policy document (expiration + conditions)
    post(book, policy, data, key=..., content_type=...)   the browser's POST; OSS errors raise OssRequestError

Imports nothing from `helpers.localcloud`.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from helpers import http_clients
from helpers.client.results import raise_for_oss
from helpers.lessons.sts import diagram_with_sts_cache  # noqa: F401  (the notebook calls it from here)
from helpers.logging import SECRET_FIELDS, mask_secret

if TYPE_CHECKING:
    from helpers.client.appserver_api import PostPolicy
    from helpers.workbook import Book

# Shown masked although not secret themselves: they are long and change on every run.
_LONG = frozenset({"policy", "callback"})


def masked_fields(policy: PostPolicy) -> list[dict[str, str]]:
    """Each form field the app server returned, in order, with secrets (and long blobs) masked."""
    rows = []
    for name, value in policy.fields.items():
        if name.lower() in SECRET_FIELDS or name in _LONG:
            shown = mask_secret(value)
        elif name == "x-oss-credential" or name == "OSSAccessKeyId":
            head, sep, rest = value.partition("/")
            shown = mask_secret(head) + sep + rest
        elif name == "x-oss-date":
            shown = value    # a timestamp: the sanitizer of the committed outputs covers it
        else:
            shown = value
        rows.append({"field": name, "value": shown})
    return rows


def conditions(policy: PostPolicy) -> dict[str, Any]:
    """The policy document, decoded from base64: it is what the signature covers, and holds no secret.
    The callback condition (a base64 blob) is decoded too, for reading."""
    doc: dict[str, Any] = json.loads(base64.b64decode(policy.fields["policy"]))
    readable = []
    for cond in doc.get("conditions", []):
        if isinstance(cond, dict) and "callback" in cond:
            cond = {"callback (decoded)": json.loads(base64.b64decode(cond["callback"]))}
        elif isinstance(cond, dict) and "x-oss-credential" in cond:
            head, sep, rest = str(cond["x-oss-credential"]).partition("/")
            cond = {"x-oss-credential": mask_secret(head) + sep + rest}
        readable.append(cond)
    return {"expiration": doc.get("expiration"), "conditions": readable}


def move_past_expiry(book: Book, policy: PostPolicy, *, beyond: float = 1.0) -> None:
    """Move the local cloud's clock `beyond` seconds past the policy's expiration (local only)."""
    expires = datetime.fromisoformat(policy.expires_at.replace("Z", "+00:00")).timestamp()
    book.advance_clock(expires - book.cloud_now() + beyond, quiet=True)
    print(f"The local cloud's clock now reads {beyond:.0f} s after the policy's expiration "
          "(a local-only call; real time did not move).")


def post(book: Book, policy: PostPolicy, data: bytes, *, key: str | None = None,
         content_type: str | None = None, filename: str = "file.bin") -> httpx.Response:
    """POST the form as a browser does (fields first, the file last), optionally with another key or
    Content-Type than the policy allows; raise OSS refusals (OssRequestError)."""
    fields = dict(policy.fields)
    if key is not None:
        fields["key"] = key
    if content_type is not None:
        fields["Content-Type"] = content_type
    ctype = fields.get("Content-Type", "application/octet-stream")
    with http_clients.client(timeout=30, event_hooks=book.recorder.httpx_hooks("OSS")) as session:
        response = session.post(policy.url, data=fields, files={"file": (filename, data, ctype)})
    raise_for_oss(response)
    print(f"POST {response.status_code} — stored {fields['key']}")
    return response
