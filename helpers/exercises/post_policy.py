"""Exercise of notebook 03: the conditions of a PostObject policy that lets a browser upload only PNG
images of at most 1 MiB into `users/alice/avatars/` (any file name).

`check` signs a V4 form policy with the candidate conditions (plus the V4 fields every form needs)
using alice's upload-scope temporary credentials (AssumeRole with the app server's own session
policy), then posts five forms to OSS and compares OSS's answers with the expected ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from helpers import http_clients
from helpers.client.results import error_fields
from helpers.exercises.marks import Marks, not_answered

MIB = 1024 * 1024
PREFIX = "users/alice/avatars/"


def solution(book: Any = None) -> list[Any]:
    return [["starts-with", "$key", PREFIX], ["content-length-range", 1, MIB],
            ["eq", "$Content-Type", "image/png"]]


def created_keys() -> list[str]:
    return [PREFIX + "exercise-small.png", PREFIX + "exercise-exact.png", PREFIX + "exercise-big.png",
            "users/alice/exercise-elsewhere.png", PREFIX + "exercise-notes.txt"]


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = ("aliyun_v4" + secret).encode()
    for part in (date, region, "oss", "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_form(book: Any, conditions: list[Any], creds: dict[str, str]) -> dict[str, str]:
    """V4 form fields (policy, signature, credential, date, token) for `conditions`."""
    now = datetime.now(UTC)
    date, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{creds['AccessKeyId']}/{date}/{book.region}/oss/aliyun_v4_request"
    v4 = {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-credential": credential, "x-oss-date": stamp}
    expiration = datetime.fromtimestamp(book.cloud_now(), UTC) + timedelta(minutes=5)
    doc = {"expiration": expiration.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
           "conditions": [{"bucket": book.bucket}, *conditions, *({k: v} for k, v in v4.items())]}
    policy = base64.b64encode(json.dumps(doc).encode()).decode()
    signature = hmac.new(_signing_key(creds["AccessKeySecret"], date, book.region), policy.encode(),
                         hashlib.sha256).hexdigest()
    return {**v4, "policy": policy, "x-oss-signature": signature,
            "x-oss-security-token": creds["SecurityToken"]}


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    if not_answered(answer):
        return False
    from helpers.lessons.sts import session_policy

    marks = Marks()
    if not marks.expect(isinstance(answer, list), "the answer is a list of conditions"):
        return marks.finish(strict=strict)
    creds = book.assume_role(session_policy(book, "alice", "upload"), session_name="alice-upload")
    form = signed_form(book, answer, creds)
    url = f"{book.oss_endpoint}/{book.bucket}" if "127.0.0.1" in book.oss_endpoint else \
        book.oss_endpoint.replace("://", f"://{book.bucket}.", 1)
    cases = [
        (PREFIX + "exercise-small.png", "image/png", 1024, "accepted"),
        (PREFIX + "exercise-exact.png", "image/png", MIB, "accepted"),
        (PREFIX + "exercise-big.png", "image/png", MIB + 1, "refused"),
        ("users/alice/exercise-elsewhere.png", "image/png", 1024, "refused"),
        (PREFIX + "exercise-notes.txt", "text/plain", 1024, "refused"),
    ]
    with http_clients.client(timeout=60) as session:
        for key, ctype, size, expected in cases:
            fields = {"key": key, "Content-Type": ctype, **form}
            r = session.post(url, data=fields, files={"file": ("f", b"\0" * size, ctype)})
            got = "accepted" if r.status_code < 300 else "refused"
            code = error_fields(r.content).get("Code", "")
            marks.expect(got == expected, f"{key} ({ctype}, {size} bytes): expected {expected}",
                         f"OSS: {r.status_code}{' ' + code if code else ''}")
    return marks.finish(strict=strict)
