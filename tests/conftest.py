"""Session fixtures: one local cloud on free loopback ports for the whole test session.

`cloud` is the running server (endpoints + context), `creds` the credentials document, and
`admin_bucket(name)` gives an oss2 Bucket signed with the account owner's key. `book` is a notebook's
`workbook.connect("local")` on a whole stack of its own, one per test module. Tests isolate
themselves with unique names (`unique`), never with global resets.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import oss2
import pytest

from helpers.localcloud.context import LocalCloudConfig
from helpers.localcloud.server import LocalCloudServer, build_context
from helpers.protocol.callback_keys import LOCAL_KEY_PATH

# The local cloud's callback public key is served at LOCAL_KEY_PATH on its OSS port.

REGION = "cn-hangzhou"
BUCKET = "workbook"


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudServer]:
    data = tmp_path_factory.mktemp("localcloud")
    ctx, _ = build_context(LocalCloudConfig(data_dir=data, region=REGION, bucket=BUCKET))
    server = LocalCloudServer(ctx).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def creds(cloud: LocalCloudServer) -> dict[str, Any]:
    return json.loads(Path(cloud.ctx.config.credentials_path).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def admin_auth(creds: dict[str, Any]) -> oss2.Auth:
    return oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])


@pytest.fixture(scope="session")
def workbook_bucket(cloud: LocalCloudServer, admin_auth: oss2.Auth) -> oss2.Bucket:
    """The workbook bucket (the one the role policy names), created once."""
    bucket = oss2.Bucket(admin_auth, cloud.oss_endpoint, BUCKET)
    bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    return bucket


@pytest.fixture
def unique() -> Callable[[str], str]:
    """unique("prefix") → a name no other test uses."""
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def clock(cloud: LocalCloudServer) -> Iterator[Any]:
    """The local cloud's movable clock, put back to real time after the test."""
    yield cloud.ctx.clock
    cloud.ctx.clock.set_offset(0.0)


@contextlib.contextmanager
def serve_bytes(body: bytes, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """A loopback HTTP (or, with `tls`, HTTPS) server answering every GET with `body`: its port."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def attacker() -> Iterator[tuple[str, Any]]:
    """An attacker's RSA key, with its PEM served at LOCAL_KEY_PATH on a loopback port of its own:
    (key URL, private key). For forged-callback tests."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    with serve_bytes(pem) as port:
        yield f"http://127.0.0.1:{port}{LOCAL_KEY_PATH}", key


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """What a notebook's `workbook.connect("local")` gives, on a fresh stack of the module's own."""
    from helpers import stack, workbook

    directory: Path = tmp_path_factory.mktemp("stack")
    try:
        b = workbook.connect("local", state_dir=directory)
        yield b
        b.close()
    finally:
        stack.down(directory)
