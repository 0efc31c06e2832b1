"""helpers.http_clients: one TLS context per process, and it still verifies certificates.

A real TLS server on loopback with a self-signed certificate: the shared clients refuse it, and
accept it only when SSL_CERT_FILE names it (httpx's own rule), so sharing the context did not turn
verification off.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpers import http_clients
from tests.conftest import serve_bytes


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serve_bytes(b"hello", tls=context) as port:
        yield f"https://127.0.0.1:{port}/", cert


@pytest.fixture
def fresh_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """tls_context() rebuilt for this test (and again after it, from the real environment)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    http_clients.tls_context.cache_clear()
    yield
    http_clients.tls_context.cache_clear()


def test_the_context_is_built_once_and_verifies() -> None:
    assert http_clients.tls_context() is http_clients.tls_context()
    assert http_clients.tls_context().verify_mode == ssl.CERT_REQUIRED
    assert http_clients.tls_context().check_hostname


def test_an_unknown_certificate_is_refused(tls_server: tuple[str, Path], fresh_context: None) -> None:
    url, _ = tls_server
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        http_clients.get(url, timeout=5)
    with http_clients.client(timeout=5) as c, pytest.raises(httpx.ConnectError, match="VERIFY_FAILED"):
        c.get(url)


def test_ssl_cert_file_is_trusted_like_httpx_does(tls_server: tuple[str, Path], fresh_context: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with http_clients.client(timeout=5) as c:
        assert c.get(url).content == b"hello"


def test_async_clients_read_the_bundle_too(tls_server: tuple[str, Path], fresh_context: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    async def fetch() -> bytes:
        async with http_clients.async_client(timeout=5) as c:
            return (await c.get(url)).content

    assert asyncio.run(fetch()) == b"hello"
