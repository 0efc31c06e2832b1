"""helpers.run.render_html without a browser: the pinned Mermaid is inlined only where diagrams are, no
script comes from a network, and a widget output's static text/html replaces the stateless widget area.
The committed Mermaid is the pinned npm package's file."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import nbformat
import pytest

from helpers.run import MERMAID_JS, render_html
from helpers.sequence_diagram import to_markdown

PINNED = json.loads((MERMAID_JS.parent / "PINNED.json").read_text(encoding="utf-8"))


def _notebook(*outputs: dict) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data=d) for d in outputs]
    nb.cells = [cell]
    return nb


def test_diagrams_get_the_inlined_mermaid_and_nothing_from_a_network() -> None:
    page = render_html(_notebook({"text/markdown": to_markdown("sequenceDiagram\n    A->>B: hi"),
                                  "text/plain": "x"}))
    assert '<pre class="mermaid">' in page and "figure.className = \"workbook-diagram\"" in page
    assert page.count("globalThis[\"mermaid\"]") == 1, "the pinned Mermaid is inlined once"
    assert "cdnjs" not in page and "unpkg" not in page and "jsdelivr" not in page


def test_a_page_without_diagrams_does_not_carry_mermaid() -> None:
    page = render_html(_notebook({"text/plain": "just text"}))
    assert "globalThis[\"mermaid\"]" not in page


def test_a_widget_output_shows_its_static_html_snapshot() -> None:
    view = {"version_major": 2, "version_minor": 0, "model_id": "0" * 32}
    page = render_html(_notebook({"application/vnd.jupyter.widget-view+json": view,
                                  "text/html": "<table><tr><th>User</th><td>alice</td></tr></table>",
                                  "text/plain": "Token console (a static snapshot; live in JupyterLab)"}))
    assert "<th>User</th><td>alice</td>" in page
    assert "application/vnd.jupyter.widget-view+json" not in page


def test_the_committed_mermaid_is_the_pinned_file() -> None:
    data = MERMAID_JS.read_bytes()
    assert hashlib.sha256(data).hexdigest() == PINNED["sha256"]
    assert (MERMAID_JS.parent / "LICENSE").read_text(encoding="utf-8").startswith("The MIT License")


@pytest.mark.slow
def test_the_pinned_npm_package_holds_that_file(tmp_path: Path) -> None:
    """`npm pack` (npm checks the tarball against the registry's integrity) then byte-compare."""
    npm = shutil.which("npm")
    assert npm, "npm is missing (scripts/system_packages.sh installs it)"
    spec = f"{PINNED['package']}@{PINNED['version']}"
    out = subprocess.run([npm, "pack", spec, "--prefer-offline", "--silent"], cwd=tmp_path, check=True,
                         capture_output=True, text=True, timeout=300).stdout.split()[-1]
    tarball = (tmp_path / out).read_bytes()
    assert "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode() == PINNED["integrity"]
    with tarfile.open(tmp_path / out) as tar:
        member = tar.extractfile(f"package/{PINNED['file']}")
        assert member is not None
        assert member.read() == MERMAID_JS.read_bytes(), "vendor/mermaid differs from the pinned package"
