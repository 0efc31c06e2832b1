"""What notebook 01 (临时凭证, upload with STS temporary credentials) shows beyond plain client calls:
the session policy the app server uses, the /api/sts answer masked, and moves of the local cloud's
clock measured from the client's own cached credentials (so the outputs do not depend on how long
the app server has cached them); and a diagram that says why the app server's AssumeRole is there,
or, when the app server answered from its cache, draws the earlier AssumeRole that filled it.

Prints only masked values. Reaches the local cloud over HTTP only (through `helpers.workbook`).
"""

from __future__ import annotations

import time
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


def _assume_roles(exchanges: list[Any], session_name: str) -> list[Any]:
    return [e for e in exchanges if e.source == "AppServer" and e.target == "STS"
            and f"RoleSessionName={session_name}" in e.path]


def diagram_with_sts_cache(book: Book, username: str, title: str, scope: str = "upload",
                           via: str = "GET /api/sts") -> None:
    """The diagram of what was recorded, then whether the first `via` request in it (`GET /api/sts`,
    `POST /api/signed-url`, `POST /api/post-policy`: each needs the user's STS credentials of `scope`)
    made the app server call AssumeRole, and why.

    The app server caches STS credentials per (user, scope) and calls AssumeRole again only inside
    its refresh margin. On a fresh stack the first request makes it call AssumeRole; on a reused stack
    (a second `make run`, `make lab` after `make run`) it answers from its cache, so the call is missing
    from this run's diagram: then the call that filled the cache, from the app server's own trace of an
    earlier run, is drawn below it."""
    method, _, path = via.partition(" ")
    session_name = f"{username}-{scope}"
    shown = book.recorder.exchanges()
    before = _assume_roles(book.recorder.earlier(sync=False), session_name)
    firsts = [e for e in shown if e.source == "Client" and e.target == "AppServer" and e.method == method
              and e.path.startswith(path) and e.status == 200]
    called = bool(firsts) and any(firsts[0].t <= e.t <= firsts[0].finished
                                  for e in _assume_roles(shown, session_name))
    book.diagram(title)
    if not firsts:
        return
    if called:
        print(f"The app server called AssumeRole for ({username}, {scope}) on the first {via}: its cache "
              f"held no credentials for them. It keeps these and answers the next requests for ({username}, "
              f"{scope}) from its cache until they are within 5 minutes of expiry.")
        return
    print(f"The first {via} made no AssumeRole: the app server used its cache. An earlier run on this stack "
          f"made it fetch credentials for ({username}, {scope}), still valid for more than 5 minutes, so it "
          "reused them (the cache saves an STS call per request; AssumeRole is rate-limited).")
    if before:
        from helpers.sequence_diagram import display_mermaid, mermaid

        stamp = time.strftime("%H:%M:%S UTC", time.gmtime(before[-1].t))
        print(f"The AssumeRole that filled the cache, at {stamp}, from the app server's trace:")
        display_mermaid(mermaid(before[-1:], title="earlier: the AssumeRole behind the cached answer"))
    else:
        print("(Its AssumeRole is older than what the app server's trace still holds.)")
