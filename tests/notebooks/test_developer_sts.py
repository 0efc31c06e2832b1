"""The developer's AssumeRole of notebooks 07 and 08 (`Book.assume_role`) and what reaches a notebook
when STS is not there.

- An `https://` STS endpoint is reached over TLS: a real TLS listener on loopback (self-signed
  certificate trusted through SSL_CERT_FILE) forwards to the session's local cloud; a request in
  plain HTTP on that port is recorded and answered 400, and must never come.
- STS unreachable: the custom-token path of the console (08) and the exercise of 07 show the real
  cause, masked: no AccessKey ID, secret or signature in any text.
- The app server answering 502 (its STS unreachable): `refused` reports that cause, not "got None".
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import oss2
import pytest

from helpers.client.mobile import MobileClient
from helpers.exercises import policy_prediction
from helpers.refusals import NotRefused, refused
from helpers.settings import Settings
from helpers.sts_client import StsUnreachable
from helpers.widgets import TokenConsole
from helpers.workbook import Book
from tests.appserver.conftest import start_appserver, stop_appserver
from tests.conftest import BUCKET, REGION
from tests.test_http_clients import _self_signed


@dataclass
class Listener:
    """What arrived at the port: requests over TLS, and bytes of anything sent in plain text."""

    port: int
    tls_requests: list[str] = field(default_factory=list)
    plain: list[bytes] = field(default_factory=list)


@contextlib.contextmanager
def tls_front(upstream: str, cert: Path, key: Path) -> Iterator[Listener]:
    """A loopback port speaking TLS (forwarding each request to `upstream`); a connection whose first
    byte is not a TLS handshake is recorded in `plain` and answered 400 in plain HTTP."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            if not isinstance(self.connection, ssl.SSLSocket):
                self.server.listener.plain.append(self.requestline.encode())  # type: ignore[attr-defined]
                self.send_error(400, "plain HTTP on a TLS port")
                return
            self.server.listener.tls_requests.append(self.path)  # type: ignore[attr-defined]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
            r = httpx.request(self.command, upstream + self.path, headers=headers, content=body,
                              trust_env=False, timeout=10)
            self.send_response(r.status_code)
            for name, value in r.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection", "date",
                                        "server"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(r.content)))
            self.end_headers()
            self.wfile.write(r.content)

        do_GET = do_POST = _forward  # noqa: N815 (http.server's naming)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def get_request(self) -> tuple[Any, Any]:
            conn, addr = self.socket.accept()
            conn.settimeout(10)
            if conn.recv(1, socket.MSG_PEEK) == b"\x16":   # a TLS ClientHello starts with 0x16
                conn = context.wrap_socket(conn, server_side=True)
            return conn, addr

    server = Server(("127.0.0.1", 0), Handler)
    server.listener = Listener(server.server_address[1])  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.listener  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _book(creds: dict[str, Any], sts_endpoint: str, oss_endpoint: str = "http://127.0.0.1:9") -> Book:
    users = {u["username"]: u["password"] for u in creds["app_users"]}
    key = (creds["appserver"]["access_key_id"], creds["appserver"]["access_key_secret"])
    return Book("aliyun", oss_endpoint, sts_endpoint, "http://127.0.0.1:9", BUCKET, REGION, creds["role_arn"],
                users, key)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _secrets(creds: dict[str, Any]) -> list[str]:
    return [creds["appserver"]["access_key_id"], creds["appserver"]["access_key_secret"], "Signature="]


def test_assume_role_to_an_https_endpoint_goes_over_tls(cloud: Any, creds: dict[str, Any], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with tls_front(cloud.sts_endpoint, cert, key) as port:
        book = _book(creds, f"https://127.0.0.1:{port.port}")
        issued = book.assume_role(None, session_name="tls-check")
    assert issued["AccessKeyId"].startswith("STS.") and issued["SecurityToken"]
    assert len(port.tls_requests) == 1, port.tls_requests
    assert port.plain == []


def test_the_tls_certificate_is_verified(cloud: Any, creds: dict[str, Any], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SSL_CERT_FILE naming it, the self-signed certificate is refused: nothing is sent."""
    cert, key = _self_signed(tmp_path)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with tls_front(cloud.sts_endpoint, cert, key) as port:
        with pytest.raises(StsUnreachable) as info:
            _book(creds, f"https://127.0.0.1:{port.port}").assume_role(None, session_name="tls-check")
    assert port.tls_requests == [] and port.plain == []
    assert str(info.value) == f"STS at 127.0.0.1:{port.port} is unreachable (TLS certificate not trusted)"


def test_sts_unreachable_in_the_console_custom_path_is_masked(creds: dict[str, Any]) -> None:
    book = _book(creds, f"http://127.0.0.1:{_closed_port()}")
    console = TokenConsole(book, tick=60)
    try:
        console.mode.value = "custom"
        console.actions.value = ("oss:GetObject", "oss:ListObjects")
        result = console.issue()
    finally:
        console.close()
    text = "\n".join(result.lines)
    assert not result.ok
    assert "StsUnreachable: STS at 127.0.0.1:" in text and "is unreachable (connection refused)" in text
    for secret in _secrets(creds):
        assert secret not in text


def test_sts_unreachable_in_the_exercise_checker_is_masked(creds: dict[str, Any],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    book = _book(creds, f"http://127.0.0.1:{_closed_port()}")
    book.client = lambda user: _NoUpload()  # type: ignore[method-assign]  # fixtures are not the point here
    policy_prediction.check(book, policy_prediction.solution())
    out = capsys.readouterr().out
    assert "STS at 127.0.0.1:" in out
    for secret in _secrets(creds):
        assert secret not in out


class _NoUpload:
    def upload(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_an_app_server_without_sts_is_reported_as_such(cloud: Any, creds: dict[str, Any],
                                                       workbook_bucket: oss2.Bucket, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """08's "another user's folder" step when the app server's STS is down: the real cause, not None."""
    for name in [n for n in os.environ if n.startswith("WORKBOOK_")]:
        monkeypatch.delenv(name)
    dead_sts = f"http://127.0.0.1:{_closed_port()}"

    def settings_for(url: str) -> Settings:
        return Settings.from_credentials_file(
            cloud.ctx.config.credentials_path, oss_endpoint=cloud.oss_endpoint, sts_endpoint=dead_sts,
            bucket=BUCKET, region=REGION, db_path=tmp_path / "appserver.sqlite3", appserver_public_url=url)

    running = start_appserver(settings_for)
    users = {u["username"]: u["password"] for u in creds["app_users"]}
    bob = MobileClient(running.url, "bob", users["bob"])
    try:
        with pytest.raises(NotRefused) as info, refused("AccessDenied"):
            bob.download("users/alice/hello.txt", absolute=True)
    finally:
        bob.close()
        stop_appserver(running)
    text = str(info.value)
    assert "expected AccessDenied, got 502" in text, text
    assert "app server answered 502: STS is unreachable" in text, text


def test_connect_aliyun_says_what_the_app_server_url_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """WORKBOOK_APPSERVER_URL comes from the deployment sequence: the message says so, by name."""
    from helpers.workbook import ALIYUN_ENV, WorkbookError, connect

    for name in ALIYUN_ENV:
        monkeypatch.setenv(name, '{"alice": "pw"}' if name == "WORKBOOK_APP_USERS" else "x")
    monkeypatch.delenv("WORKBOOK_APPSERVER_URL")
    with pytest.raises(WorkbookError) as info:
        connect("aliyun")
    text = str(info.value)
    assert "WORKBOOK_APPSERVER_URL" in text and "helpers.appserver serve" in text
    assert "WORKBOOK_OSS_ENDPOINT" not in text   # only what is missing
    monkeypatch.setenv("WORKBOOK_APPSERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WORKBOOK_APP_USERS", "{}")
    with pytest.raises(WorkbookError, match="WORKBOOK_APP_USERS must be a JSON object"):
        connect("aliyun")


def test_an_uncaught_error_in_a_notebook_is_shown_masked(capsys: pytest.CaptureFixture[str]) -> None:
    """An error no helper caught (here: an SDK-like message quoting a signed request) reaches the
    reader masked, in the traceback and in the message alike."""
    from IPython.core.interactiveshell import InteractiveShell

    from helpers.workbook import mask_uncaught_errors

    shell = InteractiveShell.instance()
    try:
        assert mask_uncaught_errors(shell)
        signed = "GET /?AccessKeyId=LTAIsecretkeyid123&Signature=c2lnbmF0dXJlLXNlY3JldA%3D%3D&x=1"
        shell.run_cell(f"raise RuntimeError({signed!r})")
    finally:
        shell.set_custom_exc((), None)
        InteractiveShell.clear_instance()
    shown = capsys.readouterr()
    text = shown.out + shown.err
    assert "RuntimeError" in text and "AccessKeyId=LTAIsecr…" in text
    assert "LTAIsecretkeyid123" not in text and "c2lnbmF0dXJlLXNlY3JldA" not in text


def test_connect_aliyun_reads_the_app_servers_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Book's configuration is a `Settings`: a bare host gets https:// as the app server's does,
    and a bad variable is named (never its value)."""
    from helpers.workbook import ALIYUN_ENV, WorkbookError, connect

    for name in ALIYUN_ENV:
        monkeypatch.setenv(name, '{"alice": "pw"}' if name == "WORKBOOK_APP_USERS" else "x")
    monkeypatch.setenv("WORKBOOK_OSS_ENDPOINT", "oss-cn-hangzhou.aliyuncs.com")
    monkeypatch.setenv("WORKBOOK_APPSERVER_URL", "http://127.0.0.1:9/")
    book = connect("aliyun")
    assert (book.oss_endpoint, book.appserver_url) == ("https://oss-cn-hangzhou.aliyuncs.com", "http://127.0.0.1:9")
    assert book.users == {"alice": "pw"} and book.developer_key == ("x", "x")
    monkeypatch.setenv("WORKBOOK_STS_DURATION_SECONDS", "12")
    with pytest.raises(WorkbookError, match="WORKBOOK_STS_DURATION_SECONDS") as info:
        connect("aliyun")
    assert "12" not in str(info.value)
