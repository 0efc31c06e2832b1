"""HTTP clients for every component: one TLS context per process, no proxy settings from the environment.

httpx builds a new `ssl.SSLContext` for every `Client`, and loading certifi's CA bundle into it costs
~18 ms of CPU even when every request is plain HTTP on loopback. A notebook makes a dozen clients
(one-shot `httpx.get`s included), so that alone was a third of its own run time. Here the context is
built once, lazily, with exactly httpx's defaults (certifi, or `SSL_CERT_FILE` / `SSL_CERT_DIR`), and
every client shares it; `get`/`post` go through one pooled client.
"""

from __future__ import annotations

import functools
import os
import ssl
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context httpx would build by default, built once per process."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


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
