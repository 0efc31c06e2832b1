"""The ✓/✗ report every checker prints, and the rule that a failed check raises under `strict`
(the notebooks pass `strict=solutions`, so running the reference solutions proves the checkers).
Imports nothing from `helpers`."""

from __future__ import annotations


class ExerciseFailed(AssertionError):
    """A checked answer is wrong (raised only with strict=True)."""


class Marks:
    """Collects one line per check; `finish` prints the verdict and raises under strict."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.count = 0

    def expect(self, ok: bool, what: str, detail: str = "") -> bool:
        self.count += 1
        mark = "✓" if ok else "✗"
        print(f"{mark} {what}{f' ({detail})' if detail else ''}")
        if not ok:
            self.failed.append(what)
        return ok

    def finish(self, *, strict: bool) -> bool:
        if self.failed:
            print(f"{len(self.failed)} of {self.count} checks failed.")
            if strict:
                raise ExerciseFailed("; ".join(self.failed))
            return False
        print(f"All {self.count} checks passed.")
        return True


def not_answered(answer: object) -> bool:
    if answer is None:
        print("Not answered yet: write your answer in the cell above (or run with solutions=True).")
        return True
    return False
