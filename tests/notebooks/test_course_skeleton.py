"""Every notebook is a lesson of the course (issue 10): objectives, a measured time, Resources with
official links, What's next and the glossary (tests/notebooks/course_skeleton.py says what each means);
every exercise module speaks one protocol through one framework (helpers/exercises/marks.py)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

from .common import PROJECT_ROOT, code_cells, notebook_paths, read
from .course_skeleton import problems

NOTEBOOKS = notebook_paths()
EXERCISE_IMPORT = re.compile(r"from helpers\.exercises import (\w+)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_the_course_elements(path: Path) -> None:
    assert problems(read(path)) == []


def _exercise_modules() -> list[str]:
    names = []
    for path in NOTEBOOKS:
        for cell in code_cells(read(path)):
            names += EXERCISE_IMPORT.findall(cell.source)
    return sorted(set(names))


def test_every_notebook_has_an_exercise_module() -> None:
    assert len(_exercise_modules()) == len(NOTEBOOKS), "one exercise module per notebook, none shared"


@pytest.mark.parametrize("name", _exercise_modules())
def test_exercise_speaks_the_one_protocol(name: str) -> None:
    module = importlib.import_module(f"helpers.exercises.{name}")
    for fn in ("check", "solution", "created_keys"):
        assert callable(getattr(module, fn, None)), f"helpers.exercises.{name} lacks {fn}()"
    check = inspect.signature(module.check)
    assert list(check.parameters)[:2] == ["book", "answer"], f"{name}.check(book, answer, *, strict)"
    assert check.parameters["strict"].kind is inspect.Parameter.KEYWORD_ONLY
    assert isinstance(module.created_keys(), list)


def test_one_exercise_framework() -> None:
    """Checkers import their marks from helpers.exercises.marks only; no second framework exists."""
    folder = PROJECT_ROOT / "helpers" / "exercises"
    assert not (folder / "_marks.py").exists()
    for source in folder.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                assert node.name != "ExerciseFailed" or source.name == "marks.py", source.name
