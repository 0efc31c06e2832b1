"""Exercise of notebook 02: a signed PUT URL that OSS accepts only for the exact bytes of
`data/notes.txt`, signed by the learner with alice's upload-scope STS credentials (the SDK call the
app server makes for her), with `Content-MD5` signed as well as `Content-Type`.

The answer is `(url, headers)`: the URL and the headers a client must send with it. `check` reads the
URL: V4, at most 120 s, alice's `docs/notes-md5.txt`; `Content-MD5` present
and equal to the file's digest; then, against OSS with plain HTTP: another body of the same size is
refused, the upload without `Content-MD5` is refused, and the file itself is stored (ETag = its MD5).
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from helpers import http_clients, sample_data
from helpers.client.results import error_fields
from helpers.exercises.marks import Marks, not_answered

if TYPE_CHECKING:
    from helpers.workbook import Book

KEY = "users/alice/docs/notes-md5.txt"
MAX_SECONDS = 120
SAMPLE = sample_data.SAMPLES["text"]


def file_md5(data: bytes) -> str:
    """`Content-MD5` of a body: the base64 of its binary MD5 digest (not the hex string)."""
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def solution(book: Book) -> tuple[str, dict[str, str]]:
    """Sign with alice's upload credentials, V4, for 120 s, binding Content-Type and Content-MD5."""
    body = SAMPLE.path.read_bytes()
    headers = {"Content-Type": SAMPLE.content_type, "Content-MD5": file_md5(body)}
    url = book.client("alice").oss2_bucket("upload").sign_url("PUT", KEY, MAX_SECONDS, headers=headers)
    return url, headers


def created_keys() -> list[str]:
    """What a solved run stores."""
    return [KEY]


def _put(book: Book, url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    with http_clients.client(timeout=30, event_hooks=book.recorder.httpx_hooks("OSS")) as http:
        r = http.put(url, headers=headers, content=body)
    code = error_fields(r.content).get("Code", "") if r.status_code >= 300 else r.headers.get("ETag", "")
    return r.status_code, code.strip('"')


def check(book: Book, answer: Any, *, strict: bool = False) -> bool:
    """Check the URL's parts, then what OSS does with three PUTs; a wrong answer names the part
    (signature version, lifetime, key, header) that is off."""
    if not_answered(answer):
        return False
    marks = Marks()
    if not (isinstance(answer, tuple | list) and len(answer) == 2 and isinstance(answer[0], str)
            and isinstance(answer[1], dict)):
        marks.expect(False, "the answer is (url, headers)", f"got {type(answer).__name__}")
        return marks.finish(strict=strict)
    url, headers = answer[0], {str(k): str(v) for k, v in answer[1].items()}
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    marks.expect(query.get("x-oss-signature-version") == "OSS4-HMAC-SHA256", "signed with V4",
                 "V1 query (OSSAccessKeyId, Expires, Signature): oss2 signs V1 unless its auth is V4; "
                 "alice's oss2_bucket signs V4" if "Signature" in query else "")
    expires = query.get("x-oss-expires")
    marks.expect(expires is not None and expires.isdigit() and int(expires) <= MAX_SECONDS,
                 f"lives at most {MAX_SECONDS} s", f"x-oss-expires={expires}")
    path = unquote(parts.path)
    marks.expect(path.endswith("/" + KEY), f"signed for {KEY}", f"the URL's path is {path}")
    body = SAMPLE.path.read_bytes()
    lower = {k.lower(): v for k, v in headers.items()}
    sent = lower.get("content-md5")
    why = ("missing" if sent is None else
           f"{sent!r}: base64 of hashlib.md5(data).digest(), not the hex digest")
    marks.expect(sent == file_md5(body), "Content-MD5 is the base64 MD5 of data/notes.txt",
                 "" if sent == file_md5(body) else why)
    if marks.failed:
        return marks.finish(strict=strict)
    forged = bytes(b ^ 0x20 if 0x61 <= b <= 0x7A else b for b in body)     # same size, other letters case
    status, code = _put(book, url, headers, forged)
    unsigned = ("; the headers must be the ones signed: pass them to sign_url(..., headers=...)"
                if code == "SignatureDoesNotMatch" else "")
    marks.expect(status == 400 and code == "InvalidDigest",
                 "another body of the same size: 400 InvalidDigest",
                 f"OSS answered {status} {code}{unsigned}")
    without = {k: v for k, v in headers.items() if k.lower() != "content-md5"}
    status, code = _put(book, url, without, body)
    marks.expect(status == 403 and code == "SignatureDoesNotMatch",
                 "the file without its Content-MD5 header: 403 SignatureDoesNotMatch (the header is signed)",
                 f"OSS answered {status} {code}")
    status, etag = _put(book, url, headers, body)
    marks.expect(status == 200 and etag.lower() == hashlib.md5(body).hexdigest(),
                 f"data/notes.txt itself: 200, stored as {KEY} (ETag = its MD5)",
                 f"OSS answered {status} {etag}{unsigned}")
    return marks.finish(strict=strict)
