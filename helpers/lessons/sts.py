"""What notebook 01 (临时凭证, upload with STS temporary credentials) shows beyond plain client calls:
the session policy the app server uses, the /api/sts answer masked, and moves of the local cloud's
clock measured from the client's own cached credentials (so the outputs do not depend on how long
the app server has cached them).

Prints only masked values. Reaches the local cloud over HTTP only (through `helpers.workbook`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.appserver.services.sts import session_policy as _session_policy
from helpers.appserver.services.sts import user_prefix
from helpers.displays import show_credentials

if TYPE_CHECKING:
    from helpers.client.mobile import MobileClient
    from helpers.workbook import Book


def session_policy(book: Book, username: str, scope: str = "upload") -> dict[str, Any]:
    """The session policy the app server passes to AssumeRole for (user, scope): built by the app
    server's own function (`helpers.appserver.services.sts.session_policy`), nothing decoded."""
    return _session_policy(bucket=book.bucket, username=username, scope=scope)  # type: ignore[arg-type]


def show_sts_answer(client: MobileClient, scope: str = "upload") -> None:
    """What GET /api/sts handed the client: credentials masked, then where they may be used."""
    token = client.api.sts(scope)  # type: ignore[arg-type]
    c = token.credentials
    show_credentials({"AccessKeyId": c.access_key_id, "AccessKeySecret": c.access_key_secret,
                      "SecurityToken": c.security_token, "Expiration": c.masked()["Expiration"],
                      "Bucket": token.bucket, "Region": token.region, "Prefix": token.prefix})
    print(f"  Prefix matches the session policy's resource: {token.prefix == user_prefix(client.username)}")


def cache_state(client: MobileClient, scope: str = "upload") -> None:
    """How many times the client asked the app server, and whether it would ask now."""
    p = client.providers[scope]  # type: ignore[index]
    left = p.remaining()
    if left is None:
        print(f"  {scope}: nothing cached yet (fetches so far: {p.fetch_count})")
        return
    inside = left <= p.refresh_margin
    margin = f"{p.refresh_margin / 60:.0f}-minute refresh margin"
    print(f"  {scope}: fetched {p.fetch_count}x; inside the {margin}: {inside}")


def move_into_refresh_margin(book: Book, client: MobileClient, *, left: float = 240.0,
                             scope: str = "upload") -> None:
    """Move the local cloud's clock until the client's cached credentials have `left` seconds to live."""
    remaining = client.providers[scope].remaining()  # type: ignore[index]
    if remaining is None:
        raise RuntimeError("the client has no cached credentials yet: upload something first")
    book.advance_clock(max(0.0, remaining - left), quiet=True)
    print(f"The local cloud's clock now reads {left / 60:.0f} minutes before these credentials expire "
          "(a local-only call; real time did not move).")


def move_past_expiry(book: Book, client: MobileClient, *, beyond: float = 60.0,
                     scope: str = "upload") -> None:
    """Move the local cloud's clock `beyond` seconds past the expiry of the client's cached credentials."""
    remaining = client.providers[scope].remaining()  # type: ignore[index]
    if remaining is None:
        raise RuntimeError("the client has no cached credentials yet: upload something first")
    book.advance_clock(remaining + beyond, quiet=True)
    print(f"The local cloud's clock now reads {beyond:.0f} s after these credentials expired "
          "(a local-only call; real time did not move).")
