"""Endpoints and URL style: where a bucket's objects are addressed.

The SDKs' rule (oss2 `utils.is_ip_or_localhost`, used for every request): an endpoint whose host
is an IP literal or `localhost` is addressed path style (`http://127.0.0.1:9000/<bucket>/<key>`),
any other host virtual-hosted (`https://<bucket>.oss-cn-hangzhou.aliyuncs.com/<key>`).
alibabacloud-oss-v2 differs only on `localhost` (path style for IP literals alone); ali-oss sends
`Host: <bucket>.oss-<region>.aliyuncs.com` even to an IP endpoint, and `<bucket>.localhost` from a
`localhost` one: `vhost_bucket` reads a bucket back out of such a `Host`.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit


def default_oss_endpoint(region: str) -> str:
    """Alibaba Cloud's public OSS endpoint of a region (HTTPS)."""
    return f"https://oss-{region}.aliyuncs.com"


def default_sts_endpoint(region: str) -> str:
    """Alibaba Cloud's STS endpoint of a region (HTTPS)."""
    return f"https://sts.{region}.aliyuncs.com"


def _host_of(netloc: str) -> str:
    """The host of `host[:port]` or `[v6]:port`, without brackets or port, lower-cased."""
    if netloc.startswith("["):
        return netloc[1:netloc.find("]")] if "]" in netloc else netloc[1:]
    return (netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc).lower()


def is_ip_literal(netloc: str) -> bool:
    """True for an IPv4 or bracketed IPv6 literal, with or without a port."""
    if not netloc:
        return False
    try:
        ipaddress.ip_address(_host_of(netloc))
    except ValueError:
        return False
    return True


def is_path_style(netloc: str) -> bool:
    """oss2's rule: path style for an IP literal or `localhost` (any port), virtual host otherwise."""
    return is_ip_literal(netloc) or _host_of(netloc) == "localhost"


def bucket_url(endpoint: str, bucket: str) -> str:
    """The bucket's URL (where a browser posts a PostObject form), in the endpoint's URL style."""
    parts = urlsplit(endpoint)
    if is_path_style(parts.netloc):
        return f"{parts.scheme}://{parts.netloc}/{bucket}"
    return f"{parts.scheme}://{bucket}.{parts.netloc}"


def object_url(endpoint: str, bucket: str, key: str) -> str:
    """An object's unsigned URL as the SDKs address it (the key percent-encoded, `/` kept)."""
    return f"{bucket_url(endpoint, bucket)}/{quote(key, safe='/')}"


# Host shapes that name a bucket by themselves, whatever address the connection went to (any port):
# `<bucket>.oss-<region>[-internal].aliyuncs.com` is what ali-oss puts in `Host` for an IP endpoint
# (createRequest.js: `${bucket}.${setRegion(region, internal).host}`), and `<bucket>.localhost` is
# what it and alibabacloud-oss-v2 build from a `localhost` endpoint. Bucket names hold no dot, so
# the bucket is exactly one label.
_VHOST_RE = re.compile(r"([^.]+)\.(?:localhost|oss-[a-z0-9-]+\.aliyuncs\.com)\.?")


def vhost_bucket(host: str, service_domains: tuple[str, ...] = ()) -> str | None:
    """The bucket a virtual-hosted `Host` names, or None for path style (IP, `localhost`, other hosts).

    Recognised: `<bucket>.oss-<region>[-internal].aliyuncs.com`, `<bucket>.localhost`, and
    `<bucket>.<d>` for each configured service domain `d`."""
    if is_path_style(host):
        return None
    hostname = _host_of(host)
    match = _VHOST_RE.fullmatch(hostname)
    if match:
        return match.group(1)
    for domain in service_domains:
        if hostname.endswith("." + domain.lower()):
            return hostname[: -len(domain) - 1]
    return None
