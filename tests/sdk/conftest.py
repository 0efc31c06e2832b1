"""Shared fixtures of the SDK-level tests: STS credentials from the real STS SDK, and a loopback
app server that receives upload callbacks and verifies their RSA-MD5 signature the way the official
`callback_app_server.py` sample does (public key fetched from `x-oss-pub-key-url`), and PostObject
forms built the way the official samples build them (no SDK implements PostObject).

Fixture names are specific (`sts_credentials`, `callback_app`) because other files share this folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import oss2
import pytest
import requests
from aliyunsdkcore.client import AcsClient
from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from helpers.localcloud.server import LocalCloudServer
from helpers.protocol import post_form
from helpers.protocol.errors import error_fields

REGION = "cn-hangzhou"
BUCKET = "workbook"


@dataclass(frozen=True)
class StsCredentials:
    access_key_id: str
    access_key_secret: str
    security_token: str


def assume_role(creds: dict[str, Any], cloud: LocalCloudServer, policy: dict[str, Any] | None = None,
                session_name: str = "sdk-tests") -> StsCredentials:
    """AssumeRole as the app server (aliyun-python-sdk-core + aliyunsdksts), optionally narrowed by a
    session policy."""
    app = creds["appserver"]
    client = AcsClient(app["access_key_id"], app["access_key_secret"], REGION, auto_retry=False)
    req = AssumeRoleRequest()
    req.set_endpoint(urlsplit(cloud.sts_endpoint).netloc)
    req.set_protocol_type("http")
    req.set_RoleArn(creds["role_arn"])
    req.set_RoleSessionName(session_name)
    if policy is not None:
        req.set_Policy(json.dumps(policy))
    doc = json.loads(client.do_action_with_exception(req))["Credentials"]
    return StsCredentials(doc["AccessKeyId"], doc["AccessKeySecret"], doc["SecurityToken"])


@pytest.fixture
def sts_credentials(creds: dict[str, Any], cloud: LocalCloudServer) -> StsCredentials:
    """Credentials of the workbook-uploader role (oss:* on the workbook bucket), no session policy."""
    return assume_role(creds, cloud)


# ------------------------------------------------------------------------------------ callbacks

@dataclass
class ReceivedCallback:
    """One request the app server got; `signature_ok` is the app server's own RSA-MD5 verdict."""

    path: str
    headers: dict[str, str]
    body: bytes
    pub_key_url: str
    signature_ok: bool

    def form(self) -> dict[str, str]:
        pairs = (p.split("=", 1) for p in self.body.decode().split("&") if p)
        return {unquote(k): unquote(v) for k, v in pairs}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CallbackApp:
    """A loopback app server. Set `status`/`answer` to change what it answers, `hang` to never answer
    (within the test), then read `received`."""

    url: str
    status: int = 200
    answer: bytes = b'{"Status":"OK"}'
    hang: bool = False
    received: list[ReceivedCallback] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    _keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)

    def public_key(self, url: str) -> rsa.RSAPublicKey:
        if url not in self._keys:
            pem = httpx.get(url, timeout=5, trust_env=False).raise_for_status().content
            key = serialization.load_pem_public_key(pem)
            assert isinstance(key, rsa.RSAPublicKey)
            self._keys[url] = key
        return self._keys[url]

    def verify(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[str, bool]:
        """What the official sample does: unquote the path part, keep the query, "\\n", raw body."""
        pub_key_url = base64.b64decode(headers.get("x-oss-pub-key-url", "")).decode()
        raw_path, sep, query = path.partition("?")
        message = (unquote(raw_path) + sep + query).encode() + b"\n" + body
        try:
            self.public_key(pub_key_url).verify(base64.b64decode(headers.get("authorization", "")), message,
                                                padding.PKCS1v15(), hashes.MD5())
        except (InvalidSignature, ValueError):
            return pub_key_url, False
        return pub_key_url, True

    def only(self) -> ReceivedCallback:
        assert len(self.received) == 1, self.received
        return self.received[0]


def _handler_for(app: CallbackApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            pub_key_url, ok = app.verify(self.path, body, headers)
            app.received.append(ReceivedCallback(self.path, headers, body, pub_key_url, ok))
            if app.hang:
                app.released.wait(15)
                return
            self.send_response(app.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(app.answer)))
            self.end_headers()
            self.wfile.write(app.answer)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            return

    return Handler


@pytest.fixture
def callback_app() -> Iterator[CallbackApp]:
    """A fresh app server on 127.0.0.1:<free port> for one test."""
    app = CallbackApp(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(app))
    server.daemon_threads = True
    app.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="callback-app", daemon=True)
    thread.start()
    try:
        yield app
    finally:
        app.released.set()
        server.shutdown()
        server.server_close()





def b64json(doc: Any) -> str:
    return base64.b64encode(json.dumps(doc).encode()).decode()


def crc64(data: bytes) -> int:
    """CRC-64/ECMA as oss2 computes it (the value of x-oss-hash-crc64ecma)."""
    c = oss2.utils.Crc64(0)
    c.update(data)
    return int(c.crc)


def md5_b64(data: bytes) -> str:
    """Content-MD5 as OSS sends and checks it: base64 of the MD5 digest."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def v2_error(fn: Callable[[], Any]) -> Any:
    """The alibabacloud_oss_v2 ServiceError that `fn()` raises (wrapped in OperationError by the SDK)."""
    import alibabacloud_oss_v2 as oss

    with pytest.raises(oss.exceptions.OperationError) as info:
        fn()
    err = info.value.unwrap()
    assert isinstance(err, oss.exceptions.ServiceError), repr(err)
    return err


def oss_error(resp: requests.Response | httpx.Response) -> tuple[int, str, str]:
    """(status, Code, Message) of an OSS XML error response."""
    fields = error_fields(resp.content)
    return resp.status_code, fields.get("Code", ""), fields.get("Message", "")


# ------------------------------------------------------------------------------------ PostObject forms

def post_form_v1(ak: str, secret: str, key: str, conditions: list[Any], *, expires_in: int = 120,
                 token: str = "", **extra: str) -> dict[str, str]:
    """oss2 examples/object_post.py: expiration is ISO 8601 + 'Z' without milliseconds (the sample's
    naive local time, taken as UTC here); signed by `helpers.protocol.post_form`; empty token."""
    expiration = datetime.fromtimestamp(int(time.time()) + expires_in, UTC).replace(tzinfo=None)
    fields = post_form.form_v1(access_key_id=ak, secret=secret, expires=expiration.isoformat() + "Z",
                               conditions=conditions, security_token=token)
    return {"key": key, **fields, **extra}


def post_form_v4(ak: str, secret: str, key: str, conditions: list[Any], *, token: str | None = None,
                 **extra: str) -> dict[str, str]:
    """alibabacloud_oss_v2 sample/post_object.py (the bucket and the three V4 fields in the policy,
    valid one hour), signed by `helpers.protocol.post_form`, plus the STS token field."""
    fields = post_form.form_v4(access_key_id=ak, secret=secret, region=REGION, expires=time.time() + 3600,
                               conditions=[{"bucket": BUCKET}, *conditions], security_token=token)
    return {"key": key, **fields, **extra}


def send_post_form(cloud: LocalCloudServer, fields: dict[str, str], content: bytes, *,
                   content_type: str | None = "text/plain") -> requests.Response:
    """POST the form to `<oss_endpoint>/workbook` (path style); `file` goes last, as OSS requires."""
    file_part = ("upload.txt", content, content_type) if content_type else ("upload.txt", content)
    return requests.post(f"{cloud.oss_endpoint}/{BUCKET}", data=fields, files={"file": file_part}, timeout=10)


@pytest.fixture
def admin_v2_client(cloud: Any, creds: dict[str, Any]) -> Any:
    """An alibabacloud_oss_v2 client with the account owner's key (V4, no retries)."""
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
    cfg.region = cloud.ctx.region
    cfg.endpoint = cloud.oss_endpoint
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)
