"""Exercise checkers for the notebooks: one module per exercise topic, each with `check(book, answer)`
(prints what holds and what does not; raises only when `strict=True`) and `solution()` (the reference
answer, run when the notebook's `solutions` parameter is True, so the tests exercise the checker)."""
