"""The two time formats of the wire: STS's `Expiration` (ISO 8601, UTC) and HTTP's `Date`."""

from __future__ import annotations

import email.utils
from datetime import datetime


def parse_iso8601(value: str) -> float:
    """`2015-04-09T11:52:19Z` (or with fractions / an offset) -> epoch seconds; ValueError without a zone."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return parsed.timestamp()


def parse_http_date(value: str | None) -> float | None:
    """An HTTP `Date` header -> epoch seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
