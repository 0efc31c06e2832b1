"""Shared by the checkers of notebooks 05–09: ✓/✗ lines and the strict-mode failure."""

from __future__ import annotations


class ExerciseFailed(AssertionError):
    """A reference solution (or a strict check) did not pass: the checker or the lesson is wrong."""


def mark(ok: bool, text: str) -> bool:
    print(f"{'✓' if ok else '✗'} {text}")
    return ok


def verdict(results: list[bool], *, strict: bool, what: str) -> None:
    passed = all(results)
    print("All checks passed." if passed else f"Not yet: {sum(not r for r in results)} check(s) failed.")
    if strict and not passed:
        raise ExerciseFailed(f"{what}: the answer failed its checks")


def not_answered() -> None:
    print("Not answered yet: write your answer in the cell above (or run with solutions=True).")
