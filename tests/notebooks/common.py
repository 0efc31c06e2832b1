"""What the notebook tests share: where the notebooks are, how to read them, the fresh-stack env.

Imports nothing from helpers.localcloud: the stack is reached as processes (helpers.stack).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat

from helpers import stack
from helpers.run import KERNEL_ENV, NOTEBOOK_GLOB, NOTEBOOKS_DIR, compile_helpers

PROJECT_ROOT = stack.PROJECT_ROOT
README = PROJECT_ROOT / "README.md"
NAME_PATTERN = re.compile(r"^\d{2}_[a-z0-9_]+\.ipynb$")


def notebook_paths() -> list[Path]:
    """Every .ipynb in notebooks/ (not only well-named ones: the naming test must see the others)."""
    return sorted(p for p in NOTEBOOKS_DIR.glob("*.ipynb")) if NOTEBOOKS_DIR.is_dir() else []


def workbook_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob(NOTEBOOK_GLOB)) if NOTEBOOKS_DIR.is_dir() else []


def read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def output_text(nb: Any) -> str:
    """All text a reader sees in the outputs: streams, text/plain, text/markdown, text/html."""
    parts: list[str] = []
    for cell in code_cells(nb):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif out.get("output_type") == "error":
                parts.append(f"{out.get('ename')}: {out.get('evalue')}")
            for mime in ("text/plain", "text/markdown", "text/html"):
                value = out.get("data", {}).get(mime)
                if value:
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def credential_secrets(credentials_file: Path) -> list[str]:
    """The secrets of a credentials file: keys, passwords and the secrets' derived forms."""
    import json

    doc = json.loads(credentials_file.read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and any(
            w in key.lower() for w in ("secret", "password", "private", "key_id")
        ):
            if len(node) >= 8:
                found.append(node)

    walk(doc)
    return found


@contextlib.contextmanager
def fresh_stack(prefix: str) -> Iterator[tuple[Path, stack.StackInfo]]:
    """A stack in a new temporary state dir, with the kernel env exported (kernels copy os.environ when
    they start), stopped and removed afterwards."""
    compile_helpers()   # kernels started under this stack import the helpers from bytecode
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    values = {**KERNEL_ENV, "WORKBOOK_STATE_DIR": str(directory)}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield directory, stack.up(directory)
    finally:
        stack.down(directory)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(directory, ignore_errors=True)
