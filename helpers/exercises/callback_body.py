"""Exercise of notebook 04: a callbackBody template that sends bucket, object, size and x:user as JSON.

`check` parses the template (OSS `${...}` variables, written without quotes in JSON mode) and, on the
local cloud, makes OSS render it for real: a PutObject with the template whose callback URL is a
recorder in this kernel; the body OSS sent must be a JSON object with exactly the expected values.
"""

from __future__ import annotations

import json
import re
from typing import Any

from helpers.exercises.marks import Marks, not_answered
from helpers.refusals import error_text

WANTED = {"bucket": "bucket", "object": "object", "size": "size", "user": "x:user"}
KEY = "users/alice/exercise-callback.txt"
DATA = b"callback exercise"


def solution(book: Any = None) -> str:
    return '{"bucket":${bucket},"object":${object},"size":${size},"user":${x:user}}'


def created_keys() -> list[str]:
    return [KEY]


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    if not_answered(answer):
        return False
    marks = Marks()
    if not marks.expect(isinstance(answer, str), "the answer is a template string"):
        return marks.finish(strict=strict)
    found = set(re.findall(r"\$\{([^}]+)\}", answer))
    marks.expect(set(WANTED.values()) <= found, "it uses ${bucket}, ${object}, ${size} and ${x:user}",
                 f"found {sorted(found)}")
    if not book.local_only("letting OSS render the template and call back to this kernel"):
        return marks.finish(strict=strict)
    from helpers.lessons.callback import capture_callback

    alice = book.client("alice")
    try:
        captured = capture_callback(alice, KEY, DATA, body_template=answer)
    except Exception as exc:  # OSS refusing the template is an answer to report
        marks.expect(False, "OSS accepts the callback", error_text(exc))
        return marks.finish(strict=strict)
    try:
        doc = json.loads(captured.body)
    except ValueError:
        marks.expect(False, "OSS sent valid JSON", captured.body[:80].decode("utf-8", "replace"))
        return marks.finish(strict=strict)
    marks.expect(isinstance(doc, dict), "OSS sent a JSON object")
    if isinstance(doc, dict):
        expected = {"bucket": book.bucket, "object": KEY, "size": str(len(DATA)), "user": "alice"}
        for name, value in expected.items():
            marks.expect(str(doc.get(name)) == value, f"{name} = {value!r}", f"OSS sent {doc.get(name)!r}")
    return marks.finish(strict=strict)
