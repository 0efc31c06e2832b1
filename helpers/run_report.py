"""What `make run` reports about its notebooks: the error text of a failed cell, masked, and a JUnit XML file.

    error_text(exc)               -> (first line, whole text) of a notebook's failure, masked
    write_junit(results, path)    -> one <testcase> per notebook; <failure> with the masked error text

Masking: `helpers.logging.mask_text` (secret query parameters, JSON fields, Authorization lines), then
every value of a secret-looking environment variable (`*SECRET*`, `*PASSWORD*`, `*TOKEN*`, and the
demo users' passwords in WORKBOOK_APP_USERS), wherever it appears: a notebook on Alibaba Cloud runs
with the real keys in its environment, and a report ends up in CI artifacts.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from helpers.logging import mask_secret, mask_text

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML 1.0 cannot carry
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN", re.IGNORECASE)
MIN_SECRET = 6  # shorter values would mask ordinary words; no key, token or password here is that short


class Reported(Protocol):
    notebook: str
    seconds: float
    ok: bool
    status: str
    detail: str


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of the environment's secret-looking variables, longest first."""
    environ = os.environ if environ is None else environ
    values = [v for k, v in environ.items() if _SECRET_NAME.search(k)]
    try:
        users = json.loads(environ.get("WORKBOOK_APP_USERS") or "{}")
        values += [str(p) for p in users.values()] if isinstance(users, dict) else []
    except ValueError:
        pass
    return sorted({v for v in values if len(v) >= MIN_SECRET}, key=len, reverse=True)


def mask(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` without ANSI colours, its embedded secrets masked (see the module docstring)."""
    text = mask_text(_NOT_XML.sub("", _ANSI.sub("", text)))
    for value in secret_values() if secrets is None else secrets:
        text = text.replace(value, mask_secret(value))
    return text


def error_text(exc: BaseException) -> tuple[str, str]:
    """(summary, detail) of a notebook's failure, both masked.

    summary: `<ename> in cell <n>: <the error's first non-empty line, whole>`;
    detail:  the summary's error in full, then the cell's traceback (papermill's, colours removed).
    """
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = str(getattr(exc, "evalue", None) or exc).strip()
    first = next((line.strip() for line in evalue.splitlines() if line.strip()), "")
    cell = getattr(exc, "exec_count", None)
    where = f" in cell {cell}" if cell else ""
    traceback = "\n".join(getattr(exc, "traceback", None) or [])
    detail = f"{ename}{where}: {evalue}" + (f"\n\n{traceback}" if traceback else "")
    return mask(f"{ename}{where}: {first}"), mask(detail)


def write_junit(results: Sequence[Reported], path: Path, *, suite: str = "notebooks",
                properties: Mapping[str, str] | None = None) -> None:
    """A JUnit XML report: one testcase per notebook (name, seconds, failure message and text).

    `status` and `detail` of the results must be masked already (`error_text`, `stream_text` do)."""
    failures = sum(not r.ok for r in results)
    root = ET.Element("testsuites", tests=str(len(results)), failures=str(failures),
                      time=f"{sum(r.seconds for r in results):.3f}")
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                         errors="0", skipped="0", time=f"{sum(r.seconds for r in results):.3f}")
    if properties:
        props = ET.SubElement(node, "properties")
        for name, value in properties.items():
            ET.SubElement(props, "property", name=name, value=value)
    for r in results:
        case = ET.SubElement(node, "testcase", classname=suite, name=r.notebook.removesuffix(".ipynb"),
                             time=f"{r.seconds:.3f}")
        if not r.ok:
            # Already masked where they were made (error_text, stream_text): masking twice would
            # garble the masks themselves.
            failure = ET.SubElement(case, "failure", message=r.status.removeprefix("FAILED: "),
                                    type="NotebookFailed")
            failure.text = r.detail or r.status
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)


def stream_text(nb: Any, cell_number: int, name: str = "stderr") -> str:
    """What the code cell with execution count (or index) `cell_number` wrote to `name`, masked."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("execution_count") or i) == cell_number:
            return mask("".join(o.get("text", "") for o in cell.get("outputs", [])
                                if o.get("output_type") == "stream" and o.get("name") == name))
    return ""
