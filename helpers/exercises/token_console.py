"""Exercise of notebook 08: the console settings for a nightly job's token (the developer's custom
token, not the app's). The job runs up to an hour on alice's behalf: it uploads a report into
`users/alice/` and reads it back to verify it; it never lists nor deletes.

Checked live: a fresh TokenConsole is driven from code with the answer (`{"mode", "actions",
"duration"}`), "Issue token" is clicked, then the token it got is used for PutObject and GetObject
(must work), ListObjects and DeleteObject (must be refused); its Expiration must be an hour away.
Each wrong setting is named with what it causes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from helpers.client.errors import ClientError
from helpers.client.results import call_oss2
from helpers.exercises.marks import Marks, not_answered
from helpers.protocol.scopes import user_prefix
from helpers.refusals import describe_error, error_text

if TYPE_CHECKING:
    from helpers.workbook import Book

USER = "alice"
KEY = f"{user_prefix(USER)}nightly-report.txt"
JOB_SECONDS = 3600  # the job's longest run; also the role's maximum session (notebook 07)
WHY = {
    "oss:PutObject": "the job uploads its report",
    "oss:GetObject": "the job reads the report back to verify it",
    "oss:ListObjects": "the job never lists: a token that lists shows every file of the folder",
    "oss:DeleteObject": "the job never deletes: a leaked token could wipe alice's folder",
}
NEEDED = ("oss:PutObject", "oss:GetObject")


def solution(book: Book | None = None) -> dict[str, Any]:
    return {"mode": "custom", "actions": ("oss:PutObject", "oss:GetObject"), "duration": 3600}


def created_keys() -> list[str]:
    """What a solved check leaves (the notebook's Cleaning up deletes it)."""
    return [KEY]


def _outcome(call: Callable[[], object]) -> str:
    try:
        call_oss2(call)
    except ClientError as exc:
        got = describe_error(exc)
        return f"refused ({got.status} {got.code})" if got.code else f"refused ({error_text(exc)})"
    return "allowed"


def check(book: Book, answer: Any, *, strict: bool = False) -> bool:
    from helpers.widgets import TokenConsole, _epoch

    if not_answered(answer):
        return False
    marks = Marks()
    if not isinstance(answer, dict):
        marks.expect(False, "the answer is a dict of widget values", f"got {type(answer).__name__}")
        return marks.finish(strict=strict)
    mode = answer.get("mode", "app server")
    if not marks.expect(mode == "custom", "mode 'custom' (the developer issues the job's token)",
                        "" if mode == "custom" else
                        f"mode {mode!r}: the app server's /api/sts gives one scope (upload OR download) "
                        "for 15 minutes; the job needs both for an hour"):
        return marks.finish(strict=strict)
    console = TokenConsole(book, tick=60)
    try:
        console.user.value = USER
        console.mode.value = "custom"
        try:
            console.actions.value = tuple(answer.get("actions", ()))
            console.duration.value = int(answer.get("duration", 0))
        except Exception as exc:  # a value the widget cannot take is an answer to explain
            marks.expect(False, "the console accepts the values", str(exc))
            return marks.finish(strict=strict)
        chosen = tuple(console.actions.value)
        duration = int(console.duration.value)
        for action in WHY:
            needed = action in NEEDED
            marks.expect((action in chosen) == needed,
                         f"{action} {'ticked' if needed else 'not ticked'}",
                         "" if (action in chosen) == needed else WHY[action])
        marks.expect(duration == JOB_SECONDS, f"duration {JOB_SECONDS} s",
                     "" if duration == JOB_SECONDS else
                     f"{duration} s: the token would expire mid-job (it runs up to an hour)")
        result = console.issue()
        if not marks.expect(result.ok, "the console issued a custom token", "; ".join(result.lines)
                            if not result.ok else ""):
            return marks.finish(strict=strict)
        expiration = next((ln.split()[-1] for ln in result.lines if ln.startswith("Expiration")), "")
        left = _epoch(expiration) - book.cloud_now() if expiration else 0
        marks.expect(left > JOB_SECONDS - 120, "its Expiration is an hour away",
                     f"{expiration}, {left / 60:.0f} minutes from now")
        bucket = console.custom_bucket()
        for what, call, want in (
            (f"PutObject {KEY}", lambda: bucket.put_object(KEY, b"nightly report\n"), "allowed"),
            (f"GetObject {KEY}", lambda: bucket.get_object(KEY).read(), "allowed"),
            (f"ListObjects {user_prefix(USER)}", lambda: bucket.list_objects(prefix=user_prefix(USER)),
             "refused"),
            (f"DeleteObject {KEY}", lambda: bucket.delete_object(KEY), "refused"),
        ):
            got = _outcome(call)
            marks.expect(got.startswith(want), f"{what}: {want}", f"OSS: {got}")
    finally:
        console.close()
    return marks.finish(strict=strict)
