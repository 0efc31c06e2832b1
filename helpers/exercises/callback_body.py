"""Exercise of notebook 04: a callbackBody in OSS's default, form-encoded type
(`application/x-www-form-urlencoded`) that the app server accepts and records.

The app server records an upload only from a verified callback whose body names `bucket`, `object`,
`size`, `mimeType`, `etag` and `user` (`helpers.appserver.services.callbacks.parse_body`). `check` reads
the template pair by pair (which name is missing, which holds the wrong variable), then lets OSS render
it for real: a PutObject of data/notes.txt whose callback goes to the app server's own `/api/callback`
(the URL the app server puts in its forms), with `x:user` as a custom variable. The app server's reply,
passed through by OSS, and its list of alice's uploads must show the object. Runs on both targets.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from helpers import sample_data
from helpers.exercises.marks import Marks, not_answered
from helpers.protocol.scopes import user_prefix
from helpers.refusals import error_text

# name in the body -> the OSS variable the app server expects there
WANTED = {"bucket": "${bucket}", "object": "${object}", "size": "${size}", "mimeType": "${mimeType}",
          "etag": "${etag}", "user": "${x:user}"}
KEY = "exercises/callback-notes.txt"
SAMPLE = sample_data.TEXT
CONTENT_TYPE = "text/plain; charset=utf-8"


def solution(book: Any = None) -> str:
    return "&".join(f"{name}={var}" for name, var in WANTED.items())


def created_keys() -> list[str]:
    return [f"{user_prefix('alice')}{KEY}"]


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    """✓/✗ per body field, then a real upload whose callback the app server must verify and record."""
    if not_answered(answer):
        return False
    marks = Marks()
    if not marks.expect(isinstance(answer, str), "the answer is a template string",
                        f"got {type(answer).__name__}"):
        return marks.finish(strict=strict)
    text = answer.strip()
    if not marks.expect(not text.startswith("{"), "it is form-encoded (name=value pairs joined by &)",
                        "it starts with '{': that is the JSON type the notebook showed"):
        return marks.finish(strict=strict)
    pairs = dict(parse_qsl(text, keep_blank_values=True))
    for name, var in WANTED.items():
        got = pairs.get(name)
        detail = "missing" if got is None else f"found {name}={got}"
        marks.expect(got == var, f"{name}={var}", "" if got == var else detail)
    if marks.failed:    # the app server would refuse it; the checks above say why
        return marks.finish(strict=strict)
    _upload_and_check(book, text, marks)
    return marks.finish(strict=strict)


def _upload_and_check(book: Any, template: str, marks: Marks) -> None:
    from helpers.lessons.callback import FORM_BODY_TYPE, app_callback_url, upload_with_callback_url

    alice = book.client("alice")
    data = SAMPLE.read_bytes()
    try:
        result = upload_with_callback_url(alice, KEY, data, app_callback_url(alice, KEY),
                                          body_template=template, body_type=FORM_BODY_TYPE,
                                          content_type=CONTENT_TYPE)
    except Exception as exc:  # OSS refusing the callback document is an answer to report
        marks.expect(False, "OSS accepts the callback with the upload", error_text(exc))
        return
    reply = result.callback_reply
    full = result.key
    marks.expect(result.status == 200 and isinstance(reply, dict) and reply.get("key") == full,
                 f"the app server verified the callback and answered for {full}",
                 f"HTTP {result.status}, reply {json.dumps(reply)[:160]}")
    rows = {u["key"]: u for u in alice.list_uploads()}
    row = rows.get(full)
    marks.expect(row is not None and row.get("size") == len(data),
                 f"the app server recorded {full} ({len(data)} bytes) for alice",
                 "no record" if row is None else f"recorded size {row.get('size')}")
