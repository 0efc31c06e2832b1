"""helpers.run, the `make run` runner, on throwaway notebooks (real kernels, no stack needed):
pass/fail/stderr statuses, the normalisation `--refresh` commits, and HTML that needs no network."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers import run


def _notebook(tmp_path: Path, name: str, *sources: str) -> Path:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [new_markdown_cell("# 00 · Sample — 样例\n\n```mermaid\nsequenceDiagram\n  A->>B: hi\n```")]
    nb.cells += [new_code_cell(s) for s in sources]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_execute_passing_notebook_ok_with_offline_html(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "00_ok.ipynb", "import os\nprint(os.environ.get('TZ'), 6 * 7)")
    with run.kernel_env():
        result, nb = run.execute(path, tmp_path / "out")
    assert result.ok and result.status == "ok", result.status
    assert nb.cells[1].outputs[0]["text"] == "UTC 42\n"
    html = (tmp_path / "out" / "00_ok.html").read_text(encoding="utf-8")
    assert "UTC 42" in html and "A-&gt;&gt;B: hi" in html  # the Mermaid source stays readable as text
    remote = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+|import\(["']https?://[^"']+""", html)
    assert remote == [], f"the HTML loads remote resources: {remote}"


def test_execute_failing_cell_reported_not_raised(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "01_fails.ipynb", "x = 1", "raise ValueError('boom')", "print('never')")
    result, _ = run.execute(path, tmp_path / "out", html=False)
    assert not result.ok
    assert result.status.startswith("FAILED: ValueError in cell 2: boom"), result.status


def test_execute_stderr_output_is_a_failure(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "02_noisy.ipynb", "import sys\nprint('careful', file=sys.stderr)")
    result, _ = run.execute(path, tmp_path / "out", html=False)
    assert not result.ok and "stderr" in result.status


def test_execute_cell_timeout_is_a_failure(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "03_slow.ipynb", "import time\ntime.sleep(30)")
    result, _ = run.execute(path, tmp_path / "out", timeout=2, html=False)
    assert not result.ok and "Timeout" in result.status, result.status


def test_normalise_drops_run_metadata_keeps_outputs_and_counts(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "00_ok.ipynb", "print('kept')")
    _, nb = run.execute(path, tmp_path / "out", html=False)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    assert "papermill" in nb.metadata and "execution" in nb.cells[1].metadata
    clean = run.normalise(nb)
    assert {"papermill", "widgets"}.isdisjoint(clean.metadata)
    assert "version" not in clean.metadata.get("language_info", {})
    cell = clean.cells[1]
    assert (
        "papermill" not in cell.metadata and "execution" not in cell.metadata and "tags" not in cell.metadata
    )
    assert cell.execution_count == 1 and cell.outputs[0]["text"] == "kept\n"


def test_notebooks_selects_by_number_and_refuses_unknown(tmp_path: Path) -> None:
    for name in ("00_a.ipynb", "01_b.ipynb", "02_c.ipynb", "notes.ipynb"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    assert [p.name for p in run.notebooks(directory=tmp_path)] == ["00_a.ipynb", "01_b.ipynb", "02_c.ipynb"]
    assert [p.name for p in run.notebooks(["2", "00"], directory=tmp_path)] == ["00_a.ipynb", "02_c.ipynb"]
    with pytest.raises(SystemExit):
        run.notebooks(["07"], directory=tmp_path)


def test_print_table_columns(capsys: pytest.CaptureFixture[str]) -> None:
    run.print_table(
        [run.Result("00_a.ipynb", 1.234, True, "ok"), run.Result("01_b.ipynb", 9.0, False, "FAILED: X")]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["notebook", "seconds", "status"]
    assert lines[1].split() == ["00_a.ipynb", "1.2", "ok"] and lines[2].split()[:3] == [
        "01_b.ipynb",
        "9.0",
        "FAILED:",
    ]
