"""Every environment variable the code reads is in the README's *Environment variables* table, so the
table cannot drift: `WORKBOOK_*` and `ALIBABA_CLOUD_*` names in the strings and comments of helpers/
(where `os.environ[...]`, messages and docstrings name them; a Python constant whose name starts
with `WORKBOOK_` is no variable) plus every field of the app server's Settings (read as
`WORKBOOK_<FIELD>`)."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from helpers.settings import settings_variables

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"\b(?:WORKBOOK|ALIBABA_CLOUD)_[A-Z0-9_]*[A-Z0-9]\b")


def code_variables() -> set[str]:
    names = set(settings_variables())
    for path in (ROOT / "helpers").rglob("*.py"):
        names |= names_in_source(path.read_text(encoding="utf-8"))
    return names


def names_in_source(source: str) -> set[str]:
    """Variable names in the strings and comments of Python `source` (not its identifiers)."""
    return {name for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type in (tokenize.STRING, tokenize.COMMENT) for name in NAME.findall(token.string)}


def readme_table_variables() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Environment variables\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in NAME.findall(row.split("|")[1])}


def test_every_variable_the_code_reads_is_in_the_readme_table() -> None:
    missing = sorted(code_variables() - readme_table_variables())
    assert not missing, f"add these to the README's 'Environment variables' table: {missing}"


def test_the_scan_sees_settings_fields_and_literal_names() -> None:
    found = code_variables()
    assert {"WORKBOOK_SESSION_SECRET", "WORKBOOK_DB_PATH", "WORKBOOK_STATE_DIR",
            "WORKBOOK_APPSERVER_URL"} <= found
    assert "WORKBOOK_" not in found
    constant = "WORKBOOK" + "_ROOT"   # spelled apart: this file names no variable either
    assert names_in_source(f"{constant} = 'users/'  # not WORKBOOK_\n") == set()
    assert names_in_source("x = os.environ['WORKBOOK_X']  # see ALIBABA_CLOUD_Y\n") == {
        "WORKBOOK_X", "ALIBABA_CLOUD_Y"}
