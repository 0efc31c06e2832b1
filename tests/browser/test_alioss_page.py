"""The upload page's ali-oss path in real headless Chromium, and the pinned copy of ali-oss it serves.

The page gets STS credentials from the app server (`GET /api/sts?scope=upload`), builds
`new OSS({..., authorizationV4: true, refreshSTSToken})` from the browser build served at
/static/vendor/ali-oss/, and calls `multipartUpload` with a progress callback. The endpoint it gives
ali-oss is `http://localhost:PORT`, so the requests go to `http://workbook.localhost:PORT/<key>`
(Chromium resolves *.localhost to loopback) and the local cloud routes them by the Host header.

The stack is this module's own: its app server runs with a 899 s refresh margin on 900 s credentials,
so it hands out fresh credentials whenever asked a second later (the default margin would serve the
first ones again from its cache).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import oss2
import pytest

from helpers import stack
from tests.browser.test_upload_page import SCREENSHOTS, _login, _payload, page  # noqa: F401 (fixture)
from tests.node_deps import ensure_node_modules

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "helpers" / "appserver" / "static" / "vendor" / "ali-oss"
MIB = 1024 * 1024
# The page asks for new credentials 5 min before expiry, i.e. 600 s after getting 900 s ones.
BROWSER_JUMP_S = 620
CLOCK_JUMP_S = 1000     # past the first credentials' 900 s


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stack.StackInfo]:
    directory = tmp_path_factory.mktemp("stack")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBOOK_STS_DURATION_SECONDS", "900")
        mp.setenv("WORKBOOK_STS_REFRESH_MARGIN_SECONDS", "899")
        try:
            info = stack.up(directory)
            yield info
        finally:
            stack.down(directory)


@pytest.fixture(scope="module")
def creds(running_stack: stack.StackInfo) -> dict[str, Any]:
    return json.loads(Path(running_stack.credentials_file).read_text(encoding="utf-8"))


def _passwords(creds: dict[str, Any]) -> dict[str, str]:
    return {u["username"]: u["password"] for u in creds["app_users"]}


def _bucket(info: stack.StackInfo, creds: dict[str, Any]) -> oss2.Bucket:
    auth = oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
    return oss2.Bucket(auth, info.oss_endpoint, info.bucket)


def _record_progress(page: Any) -> None:  # noqa: F811 (the fixture's name)
    page.evaluate("""() => { window.__sdkProgress = [];
        new MutationObserver(() => window.__sdkProgress.push(document.getElementById('sdk-progress').value))
          .observe(document.getElementById('sdk-progress-text'), {childList: true, characterData: true,
                                                                  subtree: true}); }""")


def test_alioss_multipart_with_progress_and_sts_refresh_mid_upload(
    page: Any, running_stack: stack.StackInfo, creds: dict[str, Any], tmp_path: Path,  # noqa: F811
) -> None:
    url = running_stack.appserver_url
    assert url
    data = _payload(3 * MIB)
    source = tmp_path / "holiday-video.bin"
    source.write_bytes(data)
    answers: list[dict[str, Any]] = []
    oss_hosts: set[str] = set()
    clock_url = running_stack.oss_endpoint + "/_localcloud/clock"

    def on_sts(route: Any) -> None:
        if answers:
            # ali-oss is refreshing between two parts. Make the credentials it holds expired for OSS
            # (the local cloud's clock jumps past their expiry); wait a second so the app server's
            # cache sees them as due and issues new ones.
            assert httpx.post(clock_url, json={"advance": CLOCK_JUMP_S}, trust_env=False).status_code == 200
            time.sleep(1.1)
        response = route.fetch()
        answers.append(response.json())
        route.fulfill(response=response)

    def is_part(number: int) -> Any:
        return lambda u: parse_qs(urlsplit(u).query).get("partNumber") == [str(number)]

    def on_part_1(route: Any) -> None:
        # While part 1 goes out, the page's clock passes the refresh time ali-oss was given (600 s
        # after the first credentials), so the next request asks refreshSTSToken first. (ali-oss
        # refreshes on a timer only; a real upload would simply take this long.)
        page.clock.set_system_time(datetime.now() + timedelta(seconds=BROWSER_JUMP_S))
        route.fallback()

    page.clock.install()
    page.route("**/api/sts?*", on_sts)
    page.route(is_part(1), on_part_1)
    page.on("request", lambda r: oss_hosts.add(urlsplit(r.url).netloc))
    try:
        _login(page, url, "alice", _passwords(creds)["alice"])
        page.set_input_files("#file", str(source))
        _record_progress(page)
        page.click("#sdk-upload-button")
        page.wait_for_selector("body[data-sdk-state='done'], body[data-sdk-state='failed']", timeout=60_000)
        assert page.get_attribute("body", "data-sdk-state") == "done", page.locator("#error").inner_text()
    finally:
        httpx.post(clock_url, json={"offset": 0}, trust_env=False)

    key = "users/alice/holiday-video.bin"
    # Progress: shown part by part (0, 25, 50, 75 %) and ending at 100 %.
    progress = page.evaluate("window.__sdkProgress")
    assert progress[-1] == 100 and page.locator("#sdk-progress-text").inner_text() == "100%"
    assert any(0 < p < 100 for p in progress), progress
    assert key in page.locator("#sdk-status").inner_text()
    # The refresh happened mid-upload and brought different credentials.
    assert int(page.locator("#sdk-refresh-count").inner_text()) >= 1
    assert len(answers) >= 2 and answers[1]["AccessKeyId"] != answers[0]["AccessKeyId"]
    assert answers[0]["Prefix"] == "users/alice/"
    # ali-oss addressed the bucket by host: http://workbook.localhost:PORT/<key>.
    oss_port = urlsplit(running_stack.oss_endpoint).port
    assert f"{running_stack.bucket}.localhost:{oss_port}" in oss_hosts, oss_hosts

    bucket = _bucket(running_stack, creds)
    stored = bucket.get_object(key)
    assert stored.read() == data
    assert stored.headers["x-oss-object-type"] == "Multipart" and stored.etag.endswith("-3")
    # The first credentials really were expired once the clock had moved (it is back now, so move it
    # again to ask): the upload finished only thanks to the refresh.
    first = answers[0]
    httpx.post(clock_url, json={"advance": CLOCK_JUMP_S}, trust_env=False)
    try:
        auth = oss2.StsAuth(first["AccessKeyId"], first["AccessKeySecret"], first["SecurityToken"])
        old = oss2.Bucket(auth, running_stack.oss_endpoint, running_stack.bucket)
        with pytest.raises(oss2.exceptions.OssError) as refused:
            old.put_object("users/alice/late.txt", b"late")
        assert refused.value.status == 403 and refused.value.code == "SecurityTokenExpired"
    finally:
        httpx.post(clock_url, json={"offset": 0}, trust_env=False)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "upload_page_alioss.png"), full_page=True)
    assert page.blocked == []
    assert page.console_errors == []


def test_alioss_other_users_folder_refused_with_oss_code(
    page: Any, running_stack: stack.StackInfo, creds: dict[str, Any], tmp_path: Path,  # noqa: F811
) -> None:
    url = running_stack.appserver_url
    assert url
    source = tmp_path / "into-bobs-folder.txt"
    source.write_bytes(b"not yours\n" * 100)
    _login(page, url, "alice", _passwords(creds)["alice"])
    page.set_input_files("#file", str(source))
    page.fill("#sdk-folder", "users/bob/")
    page.click("#sdk-upload-button")
    page.wait_for_selector("body[data-sdk-state='done'], body[data-sdk-state='failed']")
    assert page.get_attribute("body", "data-sdk-state") == "failed"
    assert page.locator("#error-code").inner_text() == "[AccessDenied]"
    assert "(HTTP 403)" in page.locator("#error-title").inner_text()
    assert page.locator("#error-message").inner_text()
    assert page.locator("#error-request-id").inner_text().startswith("RequestId ")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        _bucket(running_stack, creds).get_object("users/bob/into-bobs-folder.txt")
    assert page.blocked == []


def test_vendored_alioss_is_the_pinned_package_file() -> None:
    """The committed browser build equals the pinned npm package's, byte for byte, LICENSE beside it."""
    modules = ensure_node_modules()
    package = modules / "ali-oss"
    vendored = (VENDOR / "aliyun-oss-sdk.min.js").read_bytes()
    assert vendored == (package / "dist" / "aliyun-oss-sdk.min.js").read_bytes()
    assert (VENDOR / "LICENSE").read_bytes() == (package / "LICENSE").read_bytes()
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    assert f"v{version}".encode() in vendored[:200]
    assert sorted(p.name for p in VENDOR.iterdir()) == ["LICENSE", "aliyun-oss-sdk.min.js"]
