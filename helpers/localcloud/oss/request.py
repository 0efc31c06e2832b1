"""Value objects passed down the OSS pipeline: the parsed request and the operation (the principal
is `identity.Principal`).

This module imports nothing from Starlette, so model code and unit tests can build these directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers. Repeated headers keep their first value."""

    __slots__ = ("_d",)

    def __init__(self, pairs: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        d: dict[str, str] = {}
        for k, v in items:
            d.setdefault(k.lower(), v)
        self._d = d

    def __getitem__(self, key: str) -> str:
        return self._d[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._d


@dataclass(frozen=True, slots=True)
class OssRequest:
    """One parsed OSS request. `bucket` is None at service level; `key` is None at bucket level.

    `query` holds decoded (name, value) pairs in wire order (`+` decoded as space, `name` and
    `name=` both give ""). `raw_query` is the query string exactly as received.
    """

    method: str
    bucket: str | None
    key: str | None
    query: tuple[tuple[str, str], ...]
    headers: Headers
    raw_path: str
    raw_query: str
    host: str
    client_ip: str
    request_id: str
    scheme: str = "http"

    def q(self, name: str) -> str | None:
        """First value of query parameter `name`, or None when absent."""
        for k, v in self.query:
            if k == name:
                return v
        return None

    def has_q(self, name: str) -> bool:
        return any(k == name for k, _ in self.query)


# How an operation is authenticated and authorised (the app reads it; handlers never decide it):
#   signature  the app checks the request's signature, then authorises `action` on the request's resource
#   per_key    the app checks the signature; the handler authorises `action` on each key it names
#   form       the handler authenticates the form fields, then authorises `action` (PostObject)
#   none       neither: the CORS rules answer (the OPTIONS preflight)
AuthMode = Literal["signature", "per_key", "form", "none"]


@dataclass(frozen=True, slots=True)
class Operation:
    """An OSS API: its name, RAM action, the level its resource ARN names, its handler and auth mode.

    `handler` is `module.function` under `helpers.localcloud.oss.handlers` (a path, not the function,
    so the table stays free of Starlette). `source_action` is what a copy needs on its source object.
    """

    name: str
    action: str | None
    level: Literal["service", "bucket", "object"]
    handler: str
    auth: AuthMode = "signature"
    source_action: str | None = None
    # Real OSS looks the bucket up before it checks the AccessKey (missing bucket: 404 NoSuchBucket
    # whatever the key), except for requests that create a bucket (reference §1).
    key_before_bucket: bool = False
