"""The HTML export of `python -m helpers.run` draws the sequence diagrams with no network: the committed
notebook 10 rendered by `render_html`, served from loopback and opened in Debian's Chromium with every
non-loopback request aborted, shows each diagram as an inline <svg> drawn by the pinned Mermaid."""

from __future__ import annotations

import nbformat
import pytest

from helpers.run import NOTEBOOKS_DIR, render_html
from tests.browser.conftest import loopback_only
from tests.conftest import serve_bytes

pytestmark = [pytest.mark.browser]

NOTEBOOK = NOTEBOOKS_DIR / "10_troubleshooting.ipynb"


def test_exported_html_draws_the_diagrams_offline(browser: object) -> None:
    page_html = render_html(nbformat.read(NOTEBOOK, as_version=4))
    blocks = page_html.count('<pre class="mermaid">')
    assert blocks >= 1, "notebook 10's committed outputs hold no diagram"
    assert "cdn" not in page_html.lower().split("<script>", 1)[0], "a CDN reference before the scripts"
    context = browser.new_context()  # type: ignore[attr-defined]
    blocked = loopback_only(context)
    try:
        page = context.new_page()
        with serve_bytes(page_html.encode("utf-8")) as port:
            page.goto(f"http://127.0.0.1:{port}/10_troubleshooting.html", wait_until="load")
            page.wait_for_selector("body[data-diagrams='drawn']", timeout=60_000)
        drawn = page.locator("figure.workbook-diagram > svg")
        assert drawn.count() == blocks, f"{drawn.count()} of {blocks} diagrams drawn"
        assert "RequestTimeTooSkewed" in drawn.first.text_content()
        assert page.locator(".jp-mod-warning").count() == 0, "a diagram failed to draw"
    finally:
        context.close()
    assert not blocked, f"the page asked the network for {blocked}"
