"""The upload page in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

One real stack for the module (`helpers.stack.up` in a temp state dir: local cloud and app server
as separate processes, bucket and CORS rule created through the SDK). The browser loads the page
from the app server's origin, logs in, posts a file straight to OSS (PostObject, cross-origin, with
a callback) and downloads it back through a signed URL. Every request to a host other than
127.0.0.1 is aborted and recorded: the page must need nothing from the network.

A missing Chromium or Playwright is a failure, not a skip: this is the only test of the page.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from helpers import stack
from tests.browser.conftest import CHROMIUM, loopback_only

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
FILE_SIZE = 300 * 1024
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stack.StackInfo]:
    directory = tmp_path_factory.mktemp("stack")
    try:
        info = stack.up(directory)
        yield info
    finally:
        stack.down(directory)


@pytest.fixture(scope="module")
def passwords(running_stack: stack.StackInfo) -> dict[str, str]:
    doc = json.loads(Path(running_stack.credentials_file).read_text(encoding="utf-8"))
    return {u["username"]: u["password"] for u in doc["app_users"]}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh context (no cookies, no storage) whose off-loopback requests are aborted and listed in
    `page.blocked`; console errors are listed in `page.console_errors`."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1000, "height": 1100})
    blocked = loopback_only(context)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.blocked = blocked
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    try:
        yield pg
    finally:
        context.close()


def _login(page: Any, url: str, username: str, password: str) -> None:
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_selector(f"body[data-user='{username}']")
    page.wait_for_selector("#files-status:not(:empty)")
    page.wait_for_function("document.getElementById('files-status').textContent !== 'Loading…'")


def _owner_bucket(info: stack.StackInfo) -> Any:
    """The bucket with the account owner's key: what deletes an object behind the app's back."""
    import oss2

    admin = json.loads(Path(info.credentials_file).read_text(encoding="utf-8"))["admin"]
    return oss2.Bucket(oss2.Auth(admin["access_key_id"], admin["access_key_secret"]),
                       info.oss_endpoint, info.bucket, region=info.region)


def _payload(size: int) -> bytes:
    # Deterministic, not compressible, not all one byte: a corrupted range would show.
    return bytes((i * 7919 + (i >> 8)) & 0xFF for i in range(size))


def test_upload_page_alice_uploads_sees_callback_and_downloads_same_bytes(
    page: Any, running_stack: stack.StackInfo, passwords: dict[str, str], tmp_path: Path
) -> None:
    url = running_stack.appserver_url
    assert url and urlsplit(url).hostname == "127.0.0.1"
    data = _payload(FILE_SIZE)
    source = tmp_path / "report-2024.bin"
    source.write_bytes(data)

    _login(page, url, "alice", passwords["alice"])
    assert page.locator("#token-masked").inner_text().endswith("chars)")
    page.set_input_files("#file", str(source))
    # Record every progress value the page shows, to see it move and end at 100.
    page.evaluate("""() => { window.__progress = [];
        new MutationObserver(() => window.__progress.push(document.getElementById('progress').value))
          .observe(document.getElementById('progress-text'), {childList: true, characterData: true,
                                                              subtree: true}); }""")
    page.click("#upload-button")
    page.wait_for_selector("body[data-upload-state='done'], body[data-upload-state='failed']")
    assert page.get_attribute("body", "data-upload-state") == "done", page.locator("#error").inner_text()

    assert page.locator("#progress").evaluate("p => p.value") == 100
    assert page.locator("#progress-text").inner_text() == "100%"
    progress = page.evaluate("window.__progress")
    assert progress and progress[-1] == 100
    reply = json.loads(page.locator("#callback-reply").inner_text())
    key = "users/alice/report-2024.bin"
    assert reply["ok"] is True and reply["key"] == key and reply["size"] == FILE_SIZE
    # The form fields are shown, the STS token only masked.
    fields = page.locator("#policy-fields").text_content() or ""
    assert "x-oss-security-token" in fields and "chars)" in fields

    link = page.locator(f"a.download-link[data-key='{key}']")
    link.wait_for()
    href = link.get_attribute("href")
    assert href and href.startswith(running_stack.oss_endpoint + "/")
    with page.expect_download() as dl_info:
        link.click()
    download = dl_info.value
    assert download.suggested_filename == "report-2024.bin"
    assert Path(download.path()).read_bytes() == data
    # The same signed URL outside the browser: same bytes, and the attachment name OSS was told.
    r = httpx.get(href, trust_env=False, timeout=30)
    assert r.status_code == 200 and r.content == data
    assert "report-2024.bin" in r.headers["content-disposition"]

    page.locator("#policy-details").evaluate("d => { d.open = true; }")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "upload_page.png"), full_page=True)
    assert page.blocked == []
    assert page.console_errors == []


def test_upload_page_bob_does_not_see_alice_files(
    page: Any, running_stack: stack.StackInfo, passwords: dict[str, str], tmp_path: Path
) -> None:
    url = running_stack.appserver_url
    assert url
    # Alice's file exists whatever order the tests run in: upload one through the page.
    source = tmp_path / "alice-only.txt"
    source.write_bytes(b"alice's secret notes\n" * 100)
    _login(page, url, "alice", passwords["alice"])
    page.set_input_files("#file", str(source))
    page.click("#upload-button")
    page.wait_for_selector("body[data-upload-state='done'], body[data-upload-state='failed']")
    assert page.get_attribute("body", "data-upload-state") == "done", page.locator("#error").inner_text()
    page.locator("a.download-link[data-key='users/alice/alice-only.txt']").wait_for()

    page.click("#logout-button")
    assert page.locator("#file-list tr").count() == 0
    _login(page, url, "bob", passwords["bob"])
    bob_file = tmp_path / "bob-notes.txt"
    bob_file.write_bytes(b"bob\n")
    page.set_input_files("#file", str(bob_file))
    page.click("#upload-button")
    page.locator("a.download-link[data-key='users/bob/bob-notes.txt']").wait_for()
    keys = page.locator("a.download-link").evaluate_all("links => links.map(a => a.dataset.key)")
    assert keys == ["users/bob/bob-notes.txt"]
    assert "alice" not in page.locator("#files").inner_text()
    assert page.blocked == []


def test_upload_page_wrong_password_shows_error(
    page: Any, running_stack: stack.StackInfo
) -> None:
    url = running_stack.appserver_url
    page.goto(f"{url}/")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#username", "alice")
    page.fill("#password", "not-the-password")
    page.click("#login-button")
    page.wait_for_selector("#error:not([hidden])")
    assert "HTTP 401" in page.locator("#error-code").inner_text()
    assert page.locator("#upload-section").is_hidden()
    assert page.get_attribute("body", "data-user") is None


def test_upload_page_oss_refusal_shows_xml_code_and_message(
    page: Any, running_stack: stack.StackInfo, passwords: dict[str, str], tmp_path: Path
) -> None:
    """A policy whose size limit the file exceeds: OSS refuses, the page shows its XML Code/Message."""
    url = running_stack.appserver_url
    _login(page, url, "alice", passwords["alice"])
    source = tmp_path / "too-big.bin"
    source.write_bytes(b"x" * 4096)
    page.set_input_files("#file", str(source))
    # Ask for a 1 KiB limit: the page's own request plus max_size, as a client may send.
    page.route(f"{url}/api/post-policy", lambda route: route.continue_(
        post_data=json.dumps({**json.loads(route.request.post_data or "{}"), "max_size": 1024})))
    page.click("#upload-button")
    page.wait_for_selector("body[data-upload-state='failed']")
    assert page.locator("#error-code").inner_text() == "[EntityTooLarge]"
    assert page.locator("#error-message").inner_text()
    assert "(HTTP 400)" in page.locator("#error-title").inner_text()
    assert page.locator("#callback-reply").inner_text() == "(no callback reply)"


def test_static_files_reference_no_external_url() -> None:
    static = ROOT / "helpers" / "appserver" / "static"
    # vendor/ holds third-party builds, checked byte for byte against their pinned packages instead
    # (tests/browser/test_alioss_page.py); they load nothing by themselves.
    for path in (p for p in static.iterdir() if p.is_file()):
        text = path.read_text(encoding="utf-8")
        for scheme in ("http://", "https://", "//cdn", "@import"):
            assert scheme not in text, f"{path.name} references {scheme}"
    assert shutil.which("chromium") or os.access(CHROMIUM, os.X_OK)


def test_upload_page_marks_a_deleted_object_and_explains_its_link(
    page: Any, running_stack: stack.StackInfo, passwords: dict[str, str], tmp_path: Path
) -> None:
    """Upload through the page, delete the object with the account owner's key (as the OSS console
    would), reload: "My files" marks the entry deleted (the app server's HeadObject with alice's
    download-scope STS answered 404), and clicking it shows a readable message, not NoSuchKey XML."""
    url = running_stack.appserver_url
    source = tmp_path / "soon-deleted.txt"
    source.write_bytes(b"deleted after the upload\n")
    key = "users/alice/soon-deleted.txt"
    _login(page, url, "alice", passwords["alice"])
    page.set_input_files("#file", str(source))
    page.click("#upload-button")
    page.wait_for_selector("body[data-upload-state='done'], body[data-upload-state='failed']")
    assert page.get_attribute("body", "data-upload-state") == "done", page.locator("#error").inner_text()
    row = page.locator(f"tr.file-row[data-key='{key}']")
    row.wait_for()
    assert row.get_attribute("data-exists") == "true"
    assert page.locator(f"a.download-link[data-key='{key}']").inner_text() == key  # the whole key

    _owner_bucket(running_stack).delete_object(key)

    page.reload()
    _login(page, url, "alice", passwords["alice"])
    row = page.locator(f"tr.file-row[data-key='{key}']")
    row.wait_for()
    assert row.get_attribute("data-exists") == "false"
    assert "missing" in (row.get_attribute("class") or "")
    assert "(deleted from OSS)" in row.inner_text()
    assert "deleted from OSS" in page.locator("#files-status").inner_text()
    page.locator(f"a.download-link[data-key='{key}']").click()
    page.wait_for_selector("#error:not([hidden])")
    message = page.locator("#error").inner_text()
    assert "This file was deleted from OSS" in message
    assert "<Error>" not in message and "<?xml" not in page.content()
    assert page.blocked == []


def test_upload_page_link_to_an_object_deleted_after_listing_says_so(
    page: Any, running_stack: stack.StackInfo, passwords: dict[str, str], tmp_path: Path
) -> None:
    """The object disappears between the listing and the click: the page fetches the signed URL,
    gets 404 and says the file was deleted (and marks the row) instead of navigating to OSS's XML."""
    url = running_stack.appserver_url
    source = tmp_path / "gone-later.txt"
    source.write_bytes(b"deleted after the listing\n")
    key = "users/alice/gone-later.txt"
    _login(page, url, "alice", passwords["alice"])
    page.set_input_files("#file", str(source))
    page.click("#upload-button")
    page.wait_for_selector("body[data-upload-state='done'], body[data-upload-state='failed']")
    link = page.locator(f"a.download-link[data-key='{key}']")
    link.wait_for()
    _owner_bucket(running_stack).delete_object(key)
    link.click()
    page.wait_for_selector("#error:not([hidden])")
    assert "This file was deleted from OSS" in page.locator("#error").inner_text()
    assert page.locator(f"tr.file-row[data-key='{key}']").get_attribute("data-exists") == "false"
    assert page.url.startswith(url)
    assert page.blocked == []
