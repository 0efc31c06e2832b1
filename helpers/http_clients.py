"""HTTP clients for every component: one TLS context per process, no proxy settings from the environment.

httpx builds a new `ssl.SSLContext` for every `Client`, and loading certifi's CA bundle into it costs
~18 ms of CPU even when every request is plain HTTP on loopback. A notebook makes a dozen clients
(one-shot `httpx.get`s included), so that alone was a third of its own run time. Here one context,
verifying with httpx's defaults (certifi, or `SSL_CERT_FILE` / `SSL_CERT_DIR`), serves every client
and reads its bundle only when a first TLS connection needs it; `get`/`post` go through one pooled
client.
"""

from __future__ import annotations

import functools
import os
import ssl
import threading
from typing import Any

import httpx


class _VerifyingContext(ssl.SSLContext):
    """`ssl.create_default_context(cafile=..., capath=...)`, except that the CA bundle is read on the
    first TLS connection, not when the context is made: most connections here are plain HTTP on
    loopback, and reading the bundle costs ~18 ms. Verification is on from the start (CERT_REQUIRED,
    hostname checks), so a connection can never be made before the bundle is in."""

    _cafile: str | None
    _capath: str | None
    _loaded: bool

    @classmethod
    def create(cls, *, cafile: str | None = None, capath: str | None = None) -> _VerifyingContext:
        ctx = cls(ssl.PROTOCOL_TLS_CLIENT)     # CERT_REQUIRED and check_hostname by default
        ctx._cafile, ctx._capath, ctx._loaded = cafile, capath, False
        return ctx

    def _load(self) -> None:
        with _LOAD_LOCK:
            if not self._loaded:
                self.load_verify_locations(cafile=self._cafile, capath=self._capath)
                self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:   # sync clients
        self._load()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:      # async clients (anyio)
        self._load()
        return super().wrap_bio(*args, **kwargs)


_LOAD_LOCK = threading.Lock()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context httpx would build by default (certifi's bundle, or `SSL_CERT_FILE` /
    `SSL_CERT_DIR`), made once per process."""
    if os.environ.get("SSL_CERT_FILE"):
        return _VerifyingContext.create(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return _VerifyingContext.create(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return _VerifyingContext.create(cafile=certifi.where())


def client(**kwargs: Any) -> httpx.Client:
    """An `httpx.Client` verifying TLS with the shared context; `trust_env=False` unless given."""
    kwargs.setdefault("verify", tls_context())
    kwargs.setdefault("trust_env", False)
    return httpx.Client(**kwargs)


def async_client(**kwargs: Any) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` like `client`: building it never loads a CA bundle on the event loop."""
    kwargs.setdefault("verify", tls_context())
    kwargs.setdefault("trust_env", False)
    return httpx.AsyncClient(**kwargs)


@functools.cache
def _shared() -> httpx.Client:
    # Thread-safe (httpx's pool is); keeps loopback connections alive between one-shot calls.
    return client()


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request through the process's pooled client (no environment proxies). `timeout` per call."""
    return _shared().request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return request("POST", url, **kwargs)
