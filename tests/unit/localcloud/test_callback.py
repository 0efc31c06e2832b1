"""Upload callback: parameter validation, body substitution, and real POSTs to a loopback app server.

The receiving server is `http.server` in a thread on port 0. Signatures are verified here with
`cryptography` and the public PEM, rebuilding the signed string from the raw request line as an
app server must, never with the module's own helper.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from helpers.localcloud.errors import CallbackFailed, InvalidArgument
from helpers.localcloud.oss.callback import (
    CallbackResult,
    CallbackSpec,
    parse_callback,
    perform_callback,
    render_body,
    system_variables,
)
from helpers.localcloud.oss.callback_signer import PUBLIC_KEY_PATH, CallbackSigner, pub_key_url

PUB_URL = "http://127.0.0.1:9/_localcloud/callback_pub_key_v1.pem"
ONE_MB = 1024 * 1024


# ------------------------------------------------------------------------------ loopback app server

@dataclass
class Received:
    raw_path: str
    headers: dict[str, str]
    body: bytes


class AppServer:
    """A loopback app server whose behaviour depends on the first path segment."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json",
                      length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                if status == 302:
                    self.send_header("Location", "/ok")
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                               body))
                kind = self.path.lstrip("/").split("/")[0].split("?")[0]
                if kind == "ok":
                    self._send(200, json.dumps({"Status": "OK", "中": "文"}, ensure_ascii=False).encode())
                elif kind == "err500":
                    self._send(500, b'{"Status":"error"}')
                elif kind == "notjson":
                    self._send(200, b"hello, not json", "text/plain")
                elif kind == "redirect":
                    self._send(302, b"")
                elif kind == "big":
                    self._send(200, b'"' + b"a" * ONE_MB + b'"')
                elif kind == "chunked":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(b"2\r\n{}\r\n0\r\n\r\n")
                elif kind == "hang":
                    outer.release.wait(15)
                    self.close_connection = True
                else:
                    self._send(404, b"{}")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # The client drops keep-alive connections it no longer needs; that is not a test failure.
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def app_server() -> Iterator[AppServer]:
    server = AppServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(timeout=5)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> CallbackSigner:
    return CallbackSigner.load_or_create(tmp_path_factory.mktemp("keys"))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64(obj: object) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


def _spec(urls: str, body: str = "bucket=${bucket}", body_type: str | None = None,
          **extra: object) -> CallbackSpec:
    doc: dict[str, object] = {"callbackUrl": urls, "callbackBody": body, **extra}
    if body_type:
        doc["callbackBodyType"] = body_type
    return parse_callback(_b64(doc))


def _call(spec: CallbackSpec, body: bytes, signer: CallbackSigner, timeout: float = 5.0) -> CallbackResult:
    return asyncio.run(perform_callback(spec, body, signer=signer, pub_key_url=PUB_URL, bucket="bkt",
                                        request_id="REQ123", timeout=timeout))


def _verify(pem: bytes, got: Received) -> None:
    """What an app server does: unquote the path, keep the query with its '?', append \\n + body."""
    pos = got.raw_path.find("?")
    if pos == -1:
        signed = unquote(got.raw_path)
    else:
        signed = unquote(got.raw_path[:pos]) + got.raw_path[pos:]
    message = signed.encode() + b"\n" + got.body
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(base64.b64decode(got.headers["authorization"]), message, padding.PKCS1v15(), hashes.MD5())


# --------------------------------------------------------------------------------------- signer

def test_signer_load_or_create_private_key_mode_0600_and_stable(tmp_path: Path) -> None:
    first = CallbackSigner.load_or_create(tmp_path / "keys")
    second = CallbackSigner.load_or_create(tmp_path / "keys")
    priv = tmp_path / "keys" / "callback_private_key.pem"
    assert stat.S_IMODE(os.stat(priv).st_mode) == 0o600
    assert first.public_pem() == second.public_pem()
    assert first.public_pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert (tmp_path / "keys" / "callback_pub_key_v1.pem").read_bytes() == first.public_pem()


def test_signer_sign_verifies_as_rsa_md5_with_public_pem(signer: CallbackSigner) -> None:
    key = serialization.load_pem_public_key(signer.public_pem())
    assert isinstance(key, rsa.RSAPublicKey)
    sig = signer.sign(b"/index.php?id=1&index=2\nbucket=examplebucket")
    key.verify(sig, b"/index.php?id=1&index=2\nbucket=examplebucket", padding.PKCS1v15(), hashes.MD5())
    with pytest.raises(InvalidSignature):
        key.verify(sig, b"/index.php?id=1&index=2\nbucket=other", padding.PKCS1v15(), hashes.MD5())


def test_pub_key_url_oss_base_url_appends_pem_path() -> None:
    assert pub_key_url("http://127.0.0.1:9000/") == "http://127.0.0.1:9000" + PUBLIC_KEY_PATH


# ----------------------------------------------------------------------------------- parameters

def test_parse_callback_full_document_returns_spec() -> None:
    spec = parse_callback(
        _b64({"callbackUrl": "http://127.0.0.1:8080/cb?a=1;127.0.0.1:8088/test.php;",
              "callbackBody": "{\"b\":${bucket}}", "callbackBodyType": "application/json",
              "callbackHost": "app.example.com", "callbackSNI": True}),
        _b64({"x:uid": "42", "x:note": "from var"}),
        form_vars={"x:note": "from form", "key": "ignored"})
    assert spec.urls == ("http://127.0.0.1:8080/cb?a=1", "http://127.0.0.1:8088/test.php")
    assert spec.body_type == "application/json"
    assert spec.host == "app.example.com"
    assert spec.sni is True
    assert dict(spec.custom_vars) == {"x:uid": "42", "x:note": "from form"}


def test_parse_callback_var_keys_without_x_prefix_are_taken_and_ignored() -> None:
    spec = parse_callback(_b64({"callbackUrl": "http://h/", "callbackBody": "b=${bucket}&u=${uid}&a=${x:a}"}),
                          _b64({"uid": "1", "bucket": "not-mine", "n": 2, "x:a": "kept"}))
    assert dict(spec.custom_vars) == {"x:a": "kept"}
    body = render_body(spec, {"bucket": "workbook"})
    assert body == b"b=workbook&u=&a=kept"


def test_parse_callback_loopback_and_private_hosts_are_accepted() -> None:
    spec = _spec("http://127.0.0.1/a;http://10.0.0.1/b;http://192.168.1.2:81/c;http://localhost/d")
    assert len(spec.urls) == 4
    assert spec.body_type == "application/x-www-form-urlencoded"


def test_parse_callback_five_urls_accepted() -> None:
    assert len(_spec(";".join(f"http://h{i}.example.com/" for i in range(5))).urls) == 5


@pytest.mark.parametrize(("callback", "callback_var", "ec", "message_part"), [
    ("x123-*&", None, "0007-00000002", "not base64"),
    (base64.b64encode(b'{"callbackUrl":"http://h/","callbackBody":"{"a":${bucket}}"}').decode(), None,
     "0007-00000003", "The callback configuration is not json format."),
    (_b64(["not", "an", "object"]), None, "0007-00000003", "not json format"),
    (_b64({"callbackBody": "a=${bucket}"}), None, "0007-00000004", "callbackUrl"),
    (_b64({"callbackUrl": "", "callbackBody": "a=${bucket}"}), None, "0007-00000004", "callbackUrl"),
    (_b64({"callbackUrl": "www.callback-example.com:test", "callbackBody": "a"}), None,
     "0007-00000004", "callbackUrl"),
    (_b64({"callbackUrl": "ftp://h/x", "callbackBody": "a"}), None, "0007-00000004", "callbackUrl"),
    (_b64({"callbackUrl": "http://example.com/中文.php", "callbackBody": "a"}), None,
     "0007-00000004", "callbackUrl"),
    (_b64({"callbackUrl": ";".join(f"https://callback{i}.com" for i in range(6)) + ";",
           "callbackBody": "a"}), None, "0007-00000005", "exceeds"),
    (_b64({"callbackUrl": "http://h/"}), None, "0007-00000011", "callbackBody"),
    (_b64({"callbackUrl": "http://h/", "callbackBody": ""}), None, "0007-00000011", "callbackBody"),
    (_b64({"callbackUrl": "http://h/", "callbackBody": "a", "callbackBodyType": "text/plain"}), None,
     "0007-00000012", "callbackBodyType"),
    (_b64({"callbackUrl": "http://h/", "callbackBody": "a", "callbackBodyType": 123}), None,
     "0007-00000012", "callbackBodyType"),
    (_b64({"callbackUrl": "http://h/", "callbackBody": "a"}), "%%%", "0007-00000102", "not base64"),
    (_b64({"callbackUrl": "http://h/", "callbackBody": "a"}),
     base64.b64encode(b'{"x:var1":"value1",').decode(), "0007-00000103", "not json format"),
    (_b64({"callbackUrl": "http://h/", "callbackBody": "a"}), _b64({"x:n": 1}), "0007-00000104",
     "must be a string"),
    (_b64({"callbackUrl": "http://h/", "callbackBody": "a"}), _b64({"x:big": "v" * 6000}),
     "0007-00000101", "too long"),
], ids=["bad-base64", "bad-json", "json-not-object", "missing-url", "empty-url", "bad-port",
        "bad-scheme", "non-ascii-url", "six-urls", "missing-body", "empty-body", "bad-body-type",
        "body-type-number", "var-bad-base64", "var-bad-json", "var-value-not-string", "var-too-long"])
def test_parse_callback_bad_parameters_raise_invalid_argument(
        callback: str, callback_var: str | None, ec: str, message_part: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_callback(callback, callback_var)
    assert info.value.status == 400
    assert info.value.code == "InvalidArgument"
    assert info.value.ec == ec
    assert message_part in info.value.message


# ----------------------------------------------------------------------------------------- body

TRICKY = {"x:note": 'a b&c="d"', "x:cn": "中文 名"}


def test_render_body_form_type_url_encodes_values_with_percent_20() -> None:
    spec = parse_callback(_b64({"callbackUrl": "http://h/",
                                "callbackBody": "bucket=${bucket}&object=${object}&mime=${mimeType}"
                                                "&note=${x:note}&cn=${x:cn}&h=${imageInfo.height}"
                                                "&nope=${unknown}&size=${size}"}),
                          _b64(TRICKY))
    variables = system_variables(bucket="bkt", key="dir/my file&.txt", etag='"ABC"', size=13,
                                 mime_type="text/plain", crc64="123", client_ip="127.0.0.1",
                                 request_id="REQ", operation="PutObject")
    body = render_body(spec, variables)
    assert body == (b"bucket=bkt&object=dir%2Fmy%20file%26.txt&mime=text%2Fplain"
                    b"&note=a%20b%26c%3D%22d%22&cn=%E4%B8%AD%E6%96%87%20%E5%90%8D&h=&nope=&size=13")
    assert dict(parse_qsl(body.decode(), keep_blank_values=True))["note"] == 'a b&c="d"'


def test_render_body_json_type_inserts_string_literals() -> None:
    spec = parse_callback(_b64({"callbackUrl": "http://h/", "callbackBodyType": "application/json",
                                "callbackBody": '{"bucket":${bucket},"object":${object},"size":${size},'
                                                '"etag":${etag},"note":${x:note},"cn":${x:cn},'
                                                '"w":${imageInfo.width},"nope":${nope}}'}),
                          _b64(TRICKY))
    variables = system_variables(bucket="bkt", key='a "quoted" 文件', etag='"ABC"', size=13,
                                 mime_type="text/plain", crc64="1", client_ip="127.0.0.1",
                                 request_id="REQ", operation="PutObject")
    body = render_body(spec, variables)
    assert json.loads(body) == {"bucket": "bkt", "object": 'a "quoted" 文件', "size": "13", "etag": "ABC",
                                "note": 'a b&c="d"', "cn": "中文 名", "w": "", "nope": ""}
    assert "中文".encode() in body


def test_system_variables_all_names_present() -> None:
    v = system_variables(bucket="b", key="k", etag="E", size=1, mime_type="m", crc64="c", client_ip="i",
                         request_id="r", operation="PostObject", content_md5="md5")
    assert set(v) == {"bucket", "object", "etag", "size", "mimeType", "imageInfo.height", "imageInfo.width",
                      "imageInfo.format", "crc64", "contentMd5", "vpcId", "clientIp", "reqId", "operation"}


# ------------------------------------------------------------------------------------- delivery

def test_perform_callback_form_body_signed_and_relayed(app_server: AppServer, signer: CallbackSigner) -> None:
    spec = parse_callback(_b64({"callbackUrl": app_server.url("/ok/%E4%B8%AD%20dir/cb.php?id=1&v=a%2Bb"),
                                "callbackBody": "object=${object}&note=${x:note}"}), _b64(TRICKY))
    body = render_body(spec, {"object": "my file.txt"})
    result = _call(spec, body, signer)

    assert result.ok and result.error is None
    assert result.status == 200
    assert result.content_type == "application/json"
    assert json.loads(result.body) == {"Status": "OK", "中": "文"}
    (got,) = app_server.received
    assert got.raw_path == "/ok/%E4%B8%AD%20dir/cb.php?id=1&v=a%2Bb"
    assert got.body == b"object=my%20file.txt&note=a%20b%26c%3D%22d%22"
    _verify(signer.public_pem(), got)
    h = got.headers
    assert h["content-type"] == "application/x-www-form-urlencoded"
    assert h["content-length"] == str(len(body))
    assert h["content-md5"] == base64.b64encode(hashlib.md5(body).digest()).decode()
    assert base64.b64decode(h["x-oss-pub-key-url"]).decode() == PUB_URL
    assert h["x-oss-bucket"] == "bkt"
    assert h["x-oss-request-id"] == "REQ123"
    assert h["x-oss-tag"] == "CALLBACK"
    assert h["user-agent"] == "aliyun-oss-callback"
    assert h["host"] == f"127.0.0.1:{app_server.port}"
    assert abs(email.utils.parsedate_to_datetime(h["date"]).timestamp() - time.time()) < 60


def test_perform_callback_tampered_body_fails_signature_check(app_server: AppServer,
                                                              signer: CallbackSigner) -> None:
    spec = _spec(app_server.url("/ok"))
    assert _call(spec, b"bucket=bkt", signer).ok
    got = app_server.received[0]
    with pytest.raises(InvalidSignature):
        _verify(signer.public_pem(), Received(got.raw_path, got.headers, got.body + b"x"))
    with pytest.raises(InvalidSignature):
        _verify(signer.public_pem(), Received("/other", got.headers, got.body))


def test_perform_callback_json_body_and_callback_host(app_server: AppServer, signer: CallbackSigner) -> None:
    spec = parse_callback(_b64({"callbackUrl": app_server.url("/ok"), "callbackHost": "app.example.com",
                                "callbackBodyType": "application/json",
                                "callbackBody": '{"object":${object},"cn":${x:cn}}'}), _b64(TRICKY))
    body = render_body(spec, {"object": 'q"& x'})
    assert _call(spec, body, signer).ok
    (got,) = app_server.received
    assert got.headers["host"] == "app.example.com"
    assert got.headers["content-type"] == "application/json"
    assert json.loads(got.body) == {"object": 'q"& x', "cn": "中文 名"}
    _verify(signer.public_pem(), got)


def test_perform_callback_pem_on_disk_verifies(tmp_path: Path, app_server: AppServer) -> None:
    own = CallbackSigner.load_or_create(tmp_path)
    assert _call(_spec(app_server.url("/ok")), b"bucket=bkt", own).ok
    _verify((tmp_path / "callback_pub_key_v1.pem").read_bytes(), app_server.received[0])


def test_perform_callback_server_500_returns_callback_failed(app_server: AppServer,
                                                            signer: CallbackSigner) -> None:
    result = _call(_spec(app_server.url("/err500")), b"bucket=bkt", signer)
    assert not result.ok
    assert isinstance(result.error, CallbackFailed)
    assert result.error.status == 203
    assert result.error.code == "CallbackFailed"
    assert result.error.message == "Error status : 500."
    assert result.status == 500


def test_perform_callback_redirect_not_followed(app_server: AppServer, signer: CallbackSigner) -> None:
    result = _call(_spec(app_server.url("/redirect")), b"bucket=bkt", signer)
    assert result.error is not None and result.error.message == "Error status : 302."
    assert len(app_server.received) == 1


def test_perform_callback_non_json_answer_fails(app_server: AppServer, signer: CallbackSigner) -> None:
    result = _call(_spec(app_server.url("/notjson")), b"bucket=bkt", signer)
    assert result.error is not None
    assert result.error.message == "Response body is not valid json format"
    assert result.error.ec == "0007-00000205"


def test_perform_callback_answer_over_1mb_fails(app_server: AppServer, signer: CallbackSigner) -> None:
    result = _call(_spec(app_server.url("/big")), b"bucket=bkt", signer)
    assert result.error is not None
    assert result.error.message == "Error Status : 400.User server return too long content-length value"


def test_perform_callback_answer_without_content_length_fails(app_server: AppServer,
                                                              signer: CallbackSigner) -> None:
    result = _call(_spec(app_server.url("/chunked")), b"bucket=bkt", signer)
    assert result.error is not None
    assert result.error.message == "Error Status : 400.User server return too long content-length value"


def test_perform_callback_unreachable_port_fails_with_connect_message(signer: CallbackSigner) -> None:
    result = _call(_spec(f"http://127.0.0.1:{_closed_port()}/cb"), b"bucket=bkt", signer)
    assert result.error is not None
    assert result.error.message == (
        "Error Status : -1.OSS can not connect to your callbackUrl, please check it")
    assert result.status is None


def test_perform_callback_invalid_tld_fails_without_dns_lookup(signer: CallbackSigner,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def recording(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        looked_up.append(host.decode() if isinstance(host, bytes) else str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    result = _call(_spec("http://cb.nonexistent.invalid/cb;http://localhost:9/x"), b"bucket=bkt", signer)
    assert result.error is not None
    assert result.error.message == (
        "Error Status : -1.OSS can not connect to your callbackUrl, please check it")
    assert "localhost" in looked_up and not any(h.endswith(".invalid") for h in looked_up)


def test_perform_callback_silent_server_times_out(app_server: AppServer, signer: CallbackSigner) -> None:
    start = time.monotonic()
    result = _call(_spec(app_server.url("/hang")), b"bucket=bkt", signer, timeout=0.5)
    elapsed = time.monotonic() - start
    assert result.error is not None and result.error.message == "Cost too long time"
    assert 0.4 <= elapsed < 2.0


def test_perform_callback_default_timeout_is_5_seconds(app_server: AppServer, signer: CallbackSigner) -> None:
    start = time.monotonic()
    result = asyncio.run(perform_callback(_spec(app_server.url("/hang")), b"bucket=bkt", signer=signer,
                                          pub_key_url=PUB_URL, bucket="bkt", request_id="R"))
    elapsed = time.monotonic() - start
    assert result.error is not None and result.error.message == "Cost too long time"
    assert 4.8 <= elapsed < 6.0


def test_perform_callback_second_url_used_when_first_fails(app_server: AppServer,
                                                           signer: CallbackSigner) -> None:
    first = f"http://127.0.0.1:{_closed_port()}/cb"
    spec = _spec(f"{first};{app_server.url('/err500')};{app_server.url('/ok/third')}")
    result = _call(spec, b"bucket=bkt", signer)
    assert result.ok
    assert result.url == app_server.url("/ok/third")
    assert [r.raw_path for r in app_server.received] == ["/err500", "/ok/third"]
    for got in app_server.received:
        _verify(signer.public_pem(), got)


def test_perform_callback_all_urls_fail_reports_last_error(app_server: AppServer,
                                                           signer: CallbackSigner) -> None:
    spec = _spec(f"{app_server.url('/err500')};http://127.0.0.1:{_closed_port()}/cb")
    result = _call(spec, b"bucket=bkt", signer)
    assert result.error is not None
    assert result.error.message.startswith("Error Status : -1.")
