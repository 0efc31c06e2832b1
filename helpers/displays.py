"""Plain-text displays for the notebooks: tables, JSON, credentials and results, with secrets masked.

Outputs are stable text (the committed notebooks are compared cell by cell), and nothing here prints a
secret: credentials appear in their masked forms (helpers.logging).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from helpers.logging import mask_json, mask_secret


def show_credentials(creds: Mapping[str, Any]) -> None:
    """Print temporary credentials masked: the key ID's start, the secret's and token's length only."""
    for name in ("AccessKeyId", "AccessKeySecret", "SecurityToken"):
        if name in creds:
            print(f"  {name:<16} {mask_secret(str(creds[name]))}")
    for name in ("Expiration", "Bucket", "Region", "Prefix"):
        if name in creds:
            print(f"  {name:<16} {creds[name]}")


def show_table(rows: Sequence[Mapping[str, Any]], columns: list[str] | None = None) -> None:
    """Print rows of dicts as an aligned text table (stable output for the committed notebooks)."""
    if not rows:
        print("(no rows)")
        return
    cols = columns or list(rows[0])
    cells = [[str(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def show_json(doc: Any) -> None:
    """Print a JSON document indented, with any secret field masked (helpers.logging.mask_json)."""
    print(json.dumps(mask_json(doc), indent=2, ensure_ascii=False))


def show_client_credentials(client: Any, scope: Literal["upload", "download"] = "upload") -> None:
    """Print the STS credentials a client has cached for `scope`, masked (or say there are none)."""
    provider = client.providers[scope]
    if provider.remaining() is None:
        print(f"  ({scope}: no credentials cached)")
        return
    c = provider.get()
    show_credentials({"AccessKeyId": c.access_key_id, "AccessKeySecret": c.access_key_secret,
                      "SecurityToken": c.security_token,
                      "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c.expiration))})


def show_result(result: Any) -> None:
    """One line for an upload or download result: key, HTTP status, size and CRC-64 (stable output)."""
    print(f"{result.key}: HTTP {result.status}, {result.size} bytes, CRC-64 {result.crc64}")
