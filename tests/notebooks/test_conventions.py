"""Static checks on every committed notebook (no kernel): naming, the README table, the skeleton, the
parameters cell, the kernelspec, clean committed outputs, no secrets and no absolute paths.

ruff lints the notebooks' code in `make test` (pyproject: extend-include *.ipynb).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from helpers import stack

from .common import (
    NAME_PATTERN,
    PROJECT_ROOT,
    README,
    code_cells,
    credential_secrets,
    notebook_paths,
    output_text,
    read,
    workbook_notebooks,
)

NOTEBOOKS = notebook_paths()
IDS = [p.name for p in NOTEBOOKS]
TITLE = re.compile(r"^# (\d{2}) · (.+?) — (.+?)\s*$")
README_ROW = re.compile(
    r"^\|\s*(\d{2})\s*\|\s*\[([^\]]+)\]\((notebooks/[^)\s]+)\)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$"
)
SKELETON_BEFORE_PARAMETERS = ["Overview", "Prerequisites"]
SKELETON_AFTER_PARAMETERS = [
    "Observed sequence diagram",
    "Try to break it",
    "Exercise",
    "Summary",
    "Cleaning up",
]
# Shapes of secrets whatever stack produced the outputs: full RAM/STS key ids, STS tokens, JWTs,
# V4 signatures (64 hex) and V1 signatures (base64) in URLs or headers.
SECRET_SHAPES = {
    "RAM AccessKeyId": re.compile(r"LTAI[A-Za-z0-9]{18}"),
    "STS AccessKeyId": re.compile(r"STS\.[A-Za-z0-9]{20,}"),
    "STS SecurityToken": re.compile(r"CAIS[A-Za-z0-9+/=_-]{40,}"),
    "JWT": re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}"),
    "V4 signature": re.compile(r"(?i)signature=[0-9a-f]{64}"),
    "V1 signature": re.compile(r"(?i)Signature=[A-Za-z0-9%+/]{20,}={0,2}"),
}
ABSOLUTE_PATH = re.compile(
    r"(?<![\w.:/~-])(/(?:work|home|root|tmp|Users|var|opt|usr|mnt|private)/[\w.-]+"
    r"|[A-Za-z]:\\\\[\w.-])"
)


def _markdown_headings(cell: Any) -> list[str]:
    return [line[3:].strip() for line in cell.source.splitlines() if line.startswith("## ")]


def _parameters_cells(nb: Any) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]


def _readme_rows() -> dict[str, tuple[str, str, str, str]]:
    rows: dict[str, tuple[str, str, str, str]] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        m = README_ROW.match(line)
        if m:
            number, title, link, term, what = m.groups()
            rows[link] = (number, title.strip(), term.strip(), what.strip())
    return rows


def test_notebooks_exist_and_numbers_contiguous_from_00() -> None:
    names = [p.name for p in workbook_notebooks()]
    assert names, "no notebooks/NN_*.ipynb: the workbook is empty"
    numbers = [int(n[:2]) for n in names]
    assert numbers == list(range(len(numbers))), f"numbers must be unique and contiguous from 00: {names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_file_name_matches_pattern(path: Path) -> None:
    assert NAME_PATTERN.match(path.name), f"{path.name} does not match {NAME_PATTERN.pattern}"


def test_readme_table_lists_every_notebook_with_its_title() -> None:
    rows = _readme_rows()
    files = {f"notebooks/{p.name}" for p in NOTEBOOKS}
    assert set(rows) == files, (
        f"README table and notebooks/ differ: only in README {sorted(set(rows) - files)}, "
        f"only on disk {sorted(files - set(rows))}"
    )
    for link, (number, title, term, what) in rows.items():
        nb = read(PROJECT_ROOT / link)
        m = TITLE.match(nb.cells[0].source.splitlines()[0])
        assert m, f"{link}: first line must be '# NN · Title — 中文术语'"
        nb_number, nb_title, nb_term = m.groups()
        # the README's 中文 column holds the term; the title may add an English gloss after it
        assert (number, title) == (nb_number, nb_title) and nb_term.startswith(term), (
            f"{link}: README row {number, title, term} != notebook {m.groups()}"
        )
        assert what, f"{link}: the README row says nothing about what it shows"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_title_numbered_like_its_file(path: Path) -> None:
    nb = read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    m = TITLE.match(first.source.splitlines()[0])
    assert m, f"first line {first.source.splitlines()[0]!r} is not '# NN · Title — 中文术语'"
    assert m.group(1) == path.name[:2]
    h1 = [
        ln
        for c in nb.cells
        if c.cell_type == "markdown"
        for ln in c.source.splitlines()
        if ln.startswith("# ")
    ]
    assert len(h1) == 1, f"one H1 only, found {h1}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_skeleton_headings_in_order(path: Path) -> None:
    nb = read(path)
    params = _parameters_cells(nb)
    assert len(params) == 1, f"exactly one cell tagged 'parameters', found {len(params)}"
    found: list[tuple[str, int]] = []
    for name in SKELETON_BEFORE_PARAMETERS + ["<parameters>"] + SKELETON_AFTER_PARAMETERS:
        if name == "<parameters>":
            found.append((name, params[0]))
            continue
        where = [
            i
            for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown"
            and any(
                h == name or h.startswith(name + ":") or h.startswith(name + " ")
                for h in _markdown_headings(c)
            )
        ]
        assert where, f"missing heading '## {name}'"
        found.append((name, where[0]))
    order = [i for _, i in found]
    assert order == sorted(order), f"skeleton out of order: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_parameters_cell_literals_with_help(path: Path) -> None:
    import papermill as pm

    nb = read(path)
    cell = nb.cells[_parameters_cells(nb)[0]]
    assert cell.cell_type == "code"
    tree = ast.parse(cell.source)
    for stmt in tree.body:
        assert isinstance(stmt, ast.Assign | ast.AnnAssign), f"only assignments: {ast.unparse(stmt)}"
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        assert isinstance(target, ast.Name), f"assign to a plain name: {ast.unparse(stmt)}"
        ast.literal_eval(stmt.value)  # raises on anything but a literal
    for line in cell.source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert "  # " in line, f"each parameter needs a '# help' comment: {line!r}"
    params = pm.inspect_notebook(str(path))
    assert {"target", "solutions"} <= set(params), f"parameters: {sorted(params)}"
    assert params["target"]["default"] == '"local"' and params["solutions"]["default"] == "False"
    assert all(p["help"] for p in params.values()), "papermill sees no help for a parameter"
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_setup_and_cleanup_cells(path: Path) -> None:
    nb = read(path)
    setup = nb.cells[_parameters_cells(nb)[0] + 1]
    assert setup.cell_type == "code"
    assert "from helpers import" in setup.source and "workbook.connect(target)" in setup.source
    assert "book.banner()" in setup.source
    cleanup_at = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and any(h.startswith("Cleaning up") for h in _markdown_headings(c))
    )
    assert any("book.close()" in c.source for c in code_cells(nb) if nb.cells.index(c) > cleanup_at)
    sources = "\n".join(c.source for c in code_cells(nb))
    assert re.search(r"^answer = None\b", sources, re.M), "the exercise needs an 'answer = None' cell"
    assert re.search(r"^if solutions:", sources, re.M), "the exercise needs 'if solutions: ...'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_kernelspec_python3(path: Path) -> None:
    spec = read(path).metadata.get("kernelspec", {})
    assert spec.get("name") == "python3", f"kernelspec {spec}"
    assert spec.get("language") == "python"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_code_cells_only_call_helpers(path: Path) -> None:
    for cell in code_cells(read(path)):
        source = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef), (
                f"'{getattr(node, 'name', '')}' is defined in a cell: it belongs in helpers/\n{cell.source}"
            )
        assert "time.sleep" not in source and "clear_output" not in source, cell.source
        tags = cell.metadata.get("tags", [])
        assert "raises-exception" not in tags and "skip-execution" not in tags, f"tags {tags}"
        # nbval's kernel shows the value of a `;`-terminated last line, so the references would differ.
        assert not cell.source.rstrip().endswith(";"), f"assign instead of a trailing ';':\n{cell.source}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_committed_outputs_clean(path: Path) -> None:
    nb = read(path)
    assert "widgets" not in nb.metadata, "widget state is committed (it churns and nbval ignores it)"
    assert "papermill" not in nb.metadata, (
        "papermill metadata is committed: run `python -m helpers.run --refresh`"
    )
    counts = []
    for i, cell in enumerate(code_cells(nb)):
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata, (
            f"run metadata in cell {i}"
        )
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"an error output is committed: {out.get('ename')}"
            assert not (out.get("output_type") == "stream" and out.get("name") == "stderr"), (
                f"stderr output in cell {i}: {out.get('text', '')[:200]!r}"
            )
        counts.append(cell.get("execution_count"))
    # nbval compares only cells with a count: every cell must have been run, in order, once.
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts}: refresh the notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_holds_no_secret_and_no_absolute_path(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    for what, shape in SECRET_SHAPES.items():
        m = shape.search(raw)
        assert m is None, f"a full {what} is in the notebook: {m.group(0)[:12]}…"
    # The secrets of every credentials file on this machine's known state dirs.
    for cred in {stack.state_dir() / "credentials.json", PROJECT_ROOT / ".workbook" / "credentials.json"}:
        if cred.exists():
            leaked = [s[:4] for s in credential_secrets(cred) if s in raw]
            assert not leaked, f"secrets of {cred.name} in the notebook (starting {leaked})"
    m = ABSOLUTE_PATH.search(raw)
    assert m is None, f"absolute path in the notebook: {m.group(0)}"
    assert str(PROJECT_ROOT) not in raw


def test_output_text_reads_streams_and_displays() -> None:
    # the helper the execution test relies on, on a tiny in-memory notebook
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="refused: 403 AccessDenied — no\n"),
        nbformat.v4.new_output("display_data", data={"text/markdown": "```mermaid\nA->>B\n```"}),
    ]
    nb.cells = [cell]
    text = output_text(nb)
    assert "refused: 403 AccessDenied" in text and "A->>B" in text
