"""The token console's display carries a static snapshot (text/html and text/plain) of what it shows,
for pages without a kernel or widget state; checked against a real stack, never showing a secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import stack, workbook
from helpers.widgets import TokenConsole


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    directory: Path = tmp_path_factory.mktemp("stack")
    try:
        b = workbook.connect("local", state_dir=directory)
        yield b
        b.close()
    finally:
        stack.down(directory)


def test_snapshot_before_any_token(book: Any) -> None:
    console = TokenConsole(book)
    try:
        bundle = console._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle, "the live widget stays"
        assert "none yet" in bundle["text/html"] and "<table>" in bundle["text/html"]
        assert bundle["text/plain"].startswith("Token console (a static snapshot; live in JupyterLab)")
        assert "TokenConsole(children=" not in bundle["text/plain"]
    finally:
        console.close()


def test_snapshot_shows_the_token_and_what_it_can_do(book: Any) -> None:
    console = TokenConsole(book)
    try:
        console.issue_button.click()
        bundle = console._repr_mimebundle_()
        creds = book.client("alice").providers["upload"].get()
        for mime in ("text/html", "text/plain"):
            shown = bundle[mime]
            assert "STS." in shown and "oss:PutObject" in shown and "users/alice/*" in shown, shown
            for secret in (creds.access_key_id, creds.access_key_secret, creds.security_token):
                assert secret not in shown, f"a secret in the {mime} snapshot"
        console.mode.value = "custom"
        console.actions.value = ("oss:GetObject", "oss:ListObjects")
        console.issue_button.click()
        assert "(prefix users/alice/*)" in console._repr_mimebundle_()["text/plain"]
    finally:
        console.close()


def test_a_closed_console_shows_nothing(book: Any) -> None:
    console = TokenConsole(book)
    console.close()
    assert not console._repr_mimebundle_
