"""Exercise checkers for the notebooks, one module per notebook, all through one framework
(`marks.py`: `Marks`, `ExerciseFailed`, `not_answered`) and one protocol:

- `check(book, answer, *, strict) -> bool` prints ✓/✗ lines that explain a wrong answer precisely
  (which key, which action, which condition) and raises `ExerciseFailed` only when `strict`;
- `solution(book)` is the reference answer, run when the notebook's `solutions` parameter is True, so the
  tests exercise every checker;
- `created_keys() -> list[str]` names the objects a solved run leaves, which the notebook's Cleaning up
  deletes.

tests/notebooks/test_course_skeleton.py enforces the protocol."""
