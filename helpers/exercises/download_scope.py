"""Exercise of notebook 05: which app-server scope lets the app download? Checked live: the user's
client fetches a token of the answered scope and tries GetObject and PutObject with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.client.errors import ClientError
from helpers.exercises._marks import mark, not_answered, verdict

if TYPE_CHECKING:
    from helpers.workbook import Book

KEY = "exercises/scope-check.txt"
BODY = b"which scope can read me?\n"


def solution() -> str:
    return "download"


def _works(call: Any) -> bool:
    try:
        call()
    except ClientError:
        return False
    return True


def check(book: Book, answer: Any, *, strict: bool = False) -> None:
    if answer is None:
        return not_answered()
    scope = str(answer).strip().lower()
    results = [mark(scope in ("upload", "download"), f"{answer!r} is one of the app server's scopes")]
    if not results[0]:
        return verdict(results, strict=strict, what="download scope")
    alice = book.client("alice")
    alice.upload(KEY, BODY, content_type="text/plain")
    bucket = alice.oss2_bucket(scope)  # signed with a token of the answered scope
    full = alice.full_key(KEY, scope)
    got = (
        _works(lambda: alice.download(KEY))
        if scope == "download"
        else _works(lambda: _read(alice, bucket, full))
    )
    results.append(mark(got, f"a {scope}-scope token can GetObject {full}"))
    put = _works(lambda: _put(alice, bucket, full))
    results.append(mark(not put, f"a {scope}-scope token cannot PutObject (least privilege for downloading)"))
    return verdict(results, strict=strict, what="download scope")


def _read(alice: Any, bucket: Any, key: str) -> bytes:
    from helpers.client.results import call_oss2

    return call_oss2(lambda: bucket.get_object(key).read())


def _put(alice: Any, bucket: Any, key: str) -> object:
    from helpers.client.results import call_oss2

    return call_oss2(lambda: bucket.put_object(key, BODY))
