"""Exercise of notebook 08: the console settings that give bob a token that downloads but cannot
upload, from the app server. Checked live: a fresh TokenConsole is driven from code with the answer,
then its token is used for a GetObject (must work) and a PutObject (must be refused)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.client.errors import ClientError
from helpers.client.results import call_oss2
from helpers.exercises._marks import mark, not_answered, verdict

if TYPE_CHECKING:
    from helpers.workbook import Book

KEY = "console-exercise.txt"


def solution() -> dict[str, str]:
    return {"user": "bob", "mode": "app server", "scope": "download"}


def check(book: Book, answer: Any, *, strict: bool = False) -> None:
    from helpers.widgets import TokenConsole

    if answer is None:
        return not_answered()
    if not isinstance(answer, dict):
        return verdict([mark(False, "the answer is a dict of widget values")], strict=strict, what="console")
    console = TokenConsole(book)
    try:
        for name in ("user", "mode", "scope"):
            if name in answer:
                getattr(console, name).value = answer[name]
        console.issue_button.click()
        r = console.last
        results = [
            mark(r.ok and r.user == "bob", f"the console issued a token for {r.user} ({r.mode})"),
            mark(console.mode.value == "app server", "it came from the app server (the app's path)"),
        ]
        bob = book.client("bob")
        bob.upload(KEY, b"bob's file\n", content_type="text/plain")
        scope = console.scope.value
        bucket, full = bob.oss2_bucket(scope), bob.full_key(KEY, scope)
        results.append(mark(_works(lambda: bucket.get_object(full).read()), f"its token downloads {full}"))
        results.append(mark(not _works(lambda: bucket.put_object(full, b"x")), "its token cannot upload"))
    finally:
        console.close()
    book.delete_objects([f"users/bob/{KEY}"])
    return verdict(results, strict=strict, what="console")


def _works(call: Any) -> bool:
    try:
        call_oss2(call)
    except ClientError:
        return False
    return True
