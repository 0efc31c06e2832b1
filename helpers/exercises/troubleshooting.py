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


# Why each code needs its fix: printed when a match is wrong.
_WHY = {
    "RequestTimeTooSkewed": "the request's date is more than 15 minutes from OSS's clock",
    "SecurityTokenExpired": "the STS token's Expiration has passed",
    "SignatureDoesNotMatch": "what was sent differs from what was signed (method, key, a header)",
    "AccessForbidden": "the browser's CORS preflight found no rule for the page's origin",
    "EntityTooSmall": "a part other than the last is under 100 KB",
    "CallbackFailed": "the object is stored, but the callback server did not answer 200 JSON in 5 s",
}


def solution(book: Book | None = None) -> dict[str, str]:
    return dict(_KEY)


def created_keys() -> list[str]:
    """The checker uploads nothing."""
    return []


def check(book: Book | None, answer: Any, *, strict: bool = False) -> bool:
    """One ✓/✗ per logged code (a wrong match says what the chosen fix is for and what the code
    means); the verdict; raises under strict when a match is wrong."""
    if not_answered(answer):
        return False
    marks = Marks()
    if not isinstance(answer, dict):
        marks.expect(False, "the answer is a dict {code: letter}", type(answer).__name__)
        return marks.finish(strict=strict)
    fixes_for = {letter: code for code, letter in _KEY.items()}
    for code in LOGGED:
        given = str(answer.get(code, "")).strip().upper()
        if given == _KEY[code]:
            marks.expect(True, f"{code} → {given}")
            continue
        chosen = (f"{given} ({FIXES[given]}) is the fix for {fixes_for[given]}" if given in fixes_for
                  else f"{given or '(none)'} is not one of the letters")
        marks.expect(False, f"{code} → {given or '(none)'}",
                     f"{chosen}; {code} means {_WHY[code]}: the fix is {_KEY[code]}")
    return marks.finish(strict=strict)
