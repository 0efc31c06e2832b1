"""Exercise of notebook 10: match each error code a real app logged to its fix.

The answer is a dict {code: letter} over FIXES; the checker marks each code, and with strict=True (the
reference solution's run) a wrong match raises."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.exercises.marks import Marks, not_answered

if TYPE_CHECKING:
    from helpers.workbook import Book

# The fixes, in an order unrelated to the codes below.
FIXES: dict[str, str] = {
    "A": "add a CORS rule for the web page's origin to the bucket",
    "B": "ask the app server for new STS credentials (and refresh before Expiration next time)",
    "C": "make the callback endpoint answer 200 with JSON within 5 seconds",
    "D": "correct the device's clock, or sign with OSS's time (from the Date of its answers)",
    "E": "upload parts of at least 100 KB (all but the last)",
    "F": "send exactly the headers (e.g. Content-Type) the URL was signed with",
}
LOGGED = ("RequestTimeTooSkewed", "SecurityTokenExpired", "SignatureDoesNotMatch", "AccessForbidden",
          "EntityTooSmall", "CallbackFailed")
_KEY = {"RequestTimeTooSkewed": "D", "SecurityTokenExpired": "B", "SignatureDoesNotMatch": "F",
        "AccessForbidden": "A", "EntityTooSmall": "E", "CallbackFailed": "C"}


def menu() -> None:
    """Print the codes to match and the lettered fixes."""
    print("codes:", ", ".join(LOGGED))
    for letter, fix in FIXES.items():
        print(f"  {letter}  {fix}")


def solution() -> dict[str, str]:
    return dict(_KEY)


def check(book: Book | None, answer: Any, *, strict: bool = False) -> None:
    """One ✓/✗ per logged code; the verdict; raises under strict when a match is wrong."""
    if not_answered(answer):
        return
    marks = Marks()
    if not isinstance(answer, dict):
        marks.expect(False, "the answer is a dict {code: letter}", type(answer).__name__)
        marks.finish(strict=strict)
        return
    for code in LOGGED:
        given = str(answer.get(code, "")).strip().upper()
        marks.expect(given == _KEY[code], f"{code} → {given or '(none)'}",
                     "" if given == _KEY[code] else "not the fix for this code")
    marks.finish(strict=strict)
