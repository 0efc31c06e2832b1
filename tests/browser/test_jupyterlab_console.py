"""The token console (notebook 08) in real JupyterLab, in Debian's Chromium driven by Playwright.

One real stack (`helpers.stack.up` in a temp state dir), JupyterLab as its own process with that
state dir exported (so its kernel reuses this stack, not the developer's), serving a COPY of the
notebook in a temp root (JupyterLab autosaves; the committed notebook must not change). The
browser runs all cells, clicks "Issue token" in the displayed console, and checks that the masked
credentials appear and that the sequence diagram is rendered as a picture (an `svg` inside the
console's Output widget, not ```mermaid text). Every request to a host other than 127.0.0.1 is
aborted: JupyterLab and the console must need nothing from the network.

A missing Chromium or Playwright is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from helpers import stack
from tests.browser.conftest import loopback_only

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "08_token_console.ipynb"
SCREENSHOTS = ROOT / "build" / "screenshots"
JUPYTER = Path(sys.executable).parent / "jupyter"
RUN_ALL_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("stack")
    try:
        stack.up(directory)
        yield directory
    finally:
        stack.down(directory)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[dict[str, str]]:
    """JupyterLab on 127.0.0.1 (port 0) over a temp root holding a copy of notebook 08."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    runtime = base / "runtime"
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "get Jupyter news?" toast over the console
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}', encoding="utf-8")
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "WORKBOOK_STATE_DIR": str(state_dir),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "TZ": "UTC",
        "PYTHONHASHSEED": "0",
    }
    log = (base / "lab.log").open("wb")
    proc = subprocess.Popen(
        [
            str(JUPYTER),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--ServerApp.token={token}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.workspaces_dir={base / 'workspaces'}",
            f"--LabApp.user_settings_dir={base / 'settings'}",
            "--LabApp.expose_app_in_browser=True",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    try:
        url = _server_url(runtime, proc, base / "lab.log")
        yield {"url": url, "token": token, "root": str(root)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _server_url(runtime: Path, proc: subprocess.Popen[bytes], log: Path) -> str:
    """The server's URL from its runtime file `jpserver-<pid>.json` (it holds the chosen port)."""
    deadline = time.monotonic() + 90
    info_file = runtime / f"jpserver-{proc.pid}.json"
    while time.monotonic() < deadline:
        assert proc.poll() is None, "JupyterLab exited:\n" + log.read_text(errors="replace")[-3000:]
        if info_file.exists():
            try:
                info = json.loads(info_file.read_text(encoding="utf-8"))
            except ValueError:
                info = {}
            if info.get("port"):
                url = f"http://127.0.0.1:{info['port']}"
                try:
                    if (
                        httpx.get(
                            url + "/api/status",
                            params={"token": info.get("token", "")},
                            timeout=5,
                            trust_env=False,
                        ).status_code
                        == 200
                    ):
                        return url
                except httpx.HTTPError:
                    pass
        time.sleep(0.3)
    raise AssertionError("JupyterLab did not start:\n" + log.read_text(errors="replace")[-3000:])


def test_jupyterlab_token_console_issue_shows_masked_credentials_and_svg_diagram(
    lab: dict[str, str], browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    blocked = loopback_only(context)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{lab['url']}/lab/tree/{NOTEBOOK.name}?token={lab['token']}")
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        )
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'"
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # The cleanup cell's output is the last thing a complete run prints.
        page.get_by_text(re.compile(r"deleted \d+ objects")).first.wait_for(timeout=RUN_ALL_TIMEOUT_MS)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert errors.count() == 0, errors.first.inner_text()

        issue = page.locator("button.widget-button", has_text="Issue token").first
        issue.scroll_into_view_if_needed()
        issue.click()
        console = page.locator(".widget-vbox", has=issue).first
        creds = console.locator("pre", has_text="AccessKeyId").first
        creds.wait_for()
        text = creds.inner_text()
        assert "STS." in text and "…(" in text and "SecurityToken" in text, text
        # The diagram: JupyterLab's bundled Mermaid renders the ```mermaid block to SVG, which it shows as
        # <figure><img src="data:image/svg+xml,..."> (or an inline <svg>) inside the console's Output widget.
        picture = console.locator(
            ".widget-output .jp-RenderedMermaid img[src^='data:image/svg+xml'], "
            ".widget-output .jp-RenderedMermaid svg"
        ).first
        try:
            picture.wait_for(timeout=30_000)
        except Exception:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "jupyterlab_console_failure.png"), full_page=True)
            outputs = console.locator(".widget-output")
            detail = outputs.first.inner_html()[:2000] if outputs.count() else "no .widget-output"
            raise AssertionError(
                f"no rendered diagram; the console's Output widget holds: {detail}"
            ) from None
        source = unquote(picture.get_attribute("src") or picture.evaluate("e => e.outerHTML"))
        assert "<svg" in source and "AssumeRole" in source, source[:500]
        assert picture.bounding_box()["height"] > 100  # drawn, not an empty placeholder
        assert console.locator(".widget-output", has_text="```mermaid").count() == 0
        page.wait_for_function(
            "() => [...document.querySelectorAll('.widget-label')]"
            ".some(e => e.textContent.includes('expires in'))"
        )
        console.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        console.screenshot(path=str(SCREENSHOTS / "jupyterlab_console.png"))
    finally:
        context.close()
    assert all(urlsplit(u).hostname != "127.0.0.1" for u in blocked)
