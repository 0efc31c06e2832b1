"""Exercise of notebook 05: resume an interrupted download. The app has bytes 0–6 of `notes.txt` (the sample
data/notes.txt); the answer is the request headers (a dict) of the GetObject that fetches the rest, only if
the file is still the version whose ETag the app saw.

`check` copies notes.txt to `exercises/resume.txt` (same bytes, so the same ETag), sends the answer's
headers with alice's download token (expects 206 and exactly the missing bytes), then changes the copy
and sends them again (expects OSS to refuse with 412 PreconditionFailed, so the app never glues two
versions together). Each wrong outcome says which header is missing or wrong. Runs on both targets.
"""

from __future__ import annotations

from typing import Any

from helpers.client.errors import ClientError, OssRequestError
from helpers.exercises.marks import Marks, not_answered
from helpers.protocol.scopes import user_prefix
from helpers.refusals import error_text

SOURCE = "notes.txt"            # data/notes.txt, uploaded in the notebook's section 1
KEY = "exercises/resume.txt"    # the checker's copy, changed on purpose
HAVE = 7                        # bytes 0–6 arrived before the connection dropped (section 5)


def solution(book: Any) -> dict[str, str]:
    etag = book.client("alice").download(SOURCE).etag
    return {"Range": f"bytes={HAVE}-", "If-Match": etag}


def created_keys() -> list[str]:
    return [f"{user_prefix('alice')}{KEY}"]


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    """Both requests for real: the rest of the unchanged file, then a refusal once it changed."""
    from helpers.lessons.download import conditional_get

    if not_answered(answer):
        return False
    marks = Marks()
    if not marks.expect(isinstance(answer, dict) and all(isinstance(v, str) for v in answer.values()),
                        "the answer is a dict of request headers (name -> string)"):
        return marks.finish(strict=strict)
    headers = {str(k).strip(): str(v).strip() for k, v in answer.items()}
    names = {k.lower() for k in headers}
    alice = book.client("alice")
    try:
        original = alice.download(SOURCE)
    except ClientError as exc:
        marks.expect(False, f"{SOURCE} exists (run the notebook from the top first)", error_text(exc))
        return marks.finish(strict=strict)
    alice.upload(KEY, original.data, content_type="text/plain; charset=utf-8")
    rest = original.data[HAVE:]
    last = len(original.data) - 1

    # 1. The file has not changed: OSS must send exactly bytes HAVE..end.
    try:
        got = conditional_get(alice, KEY, headers)
    except OssRequestError as exc:
        hint = (f"If-Match must be the ETag the app saw, {original.etag} (result.etag), got "
                f"{_get(headers, 'if-match')!r}" if exc.code == "PreconditionFailed" else error_text(exc))
        marks.expect(False, "the unchanged file: OSS sends the rest", f"{exc.status} {exc.code}: {hint}")
        return marks.finish(strict=strict)
    if got is None:
        marks.expect(False, "the unchanged file: OSS sends the rest",
                     "304 Not Modified: If-None-Match asks for the file only if it CHANGED; use If-Match")
        return marks.finish(strict=strict)
    marks.expect("range" in names, "a Range header",
                 "" if "range" in names else f"missing: OSS sent the whole file ({len(got)} bytes), and the "
                 f"app would have bytes 0–{HAVE - 1} twice")
    marks.expect(got == rest, f"the unchanged file: OSS sends bytes {HAVE}–{last} ({len(rest)} bytes)",
                 "" if got == rest else f"got {len(got)} bytes with Range {_get(headers, 'range')!r}")

    # 2. The file changed meanwhile: OSS must refuse, not send bytes of another version.
    alice.upload(KEY, b"A NEW VERSION. " + original.data, content_type="text/plain; charset=utf-8")
    try:
        changed = conditional_get(alice, KEY, headers)
    except OssRequestError as exc:
        ok = exc.code == "PreconditionFailed"
        marks.expect(ok, "the changed file: OSS refuses with 412 PreconditionFailed",
                     "" if ok else f"{exc.status} {exc.code}")
        return marks.finish(strict=strict)
    sent = 0 if changed is None else len(changed)
    why = (f"it sent {sent} bytes of the NEW version, which the app would glue to the old first {HAVE}: "
           "add If-Match with the ETag it saw" if "if-match" not in names
           else f"If-Match {_get(headers, 'if-match')!r} matched the new version")
    marks.expect(False, "the changed file: OSS refuses with 412 PreconditionFailed", why)
    return marks.finish(strict=strict)


def _get(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)
