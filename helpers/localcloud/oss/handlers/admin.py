"""Local-only endpoints under `/_localcloud/` on the OSS port (loopback only, except the public key;
the cloud-shaped profile serves only the public key, see `oss.app`).

- `GET  callback_pub_key_v1.pem`: the PEM that verifies this local cloud's callback signatures.
- `GET  health`: liveness plus the endpoints.
- `GET|POST clock`: read or move the clock (`{"advance": seconds}` or `{"offset": seconds}`).
  `GET clock?wait=V` answers once the clock's version differs from V (or after 20 s), so a follower
  (the local app server) learns of a move at once without polling. Real OSS has no such call: it
  exists so notebooks can show expiry in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math

from starlette.responses import Response

from helpers.localcloud.clock import iso8601_s
from helpers.localcloud.errors import InvalidArgument
from helpers.localcloud.oss.call import Call
from helpers.protocol.callback_keys import LOCAL_KEY_FILE


def _json(doc: object, status: int = 200) -> Response:
    return Response(json.dumps(doc).encode(), status_code=status, media_type="application/json")


async def public_key(c: Call) -> Response:
    return Response(c.ctx.callback_signer.public_pem(), media_type="application/x-pem-file")


async def health(c: Call) -> Response:
    return _json({"status": "ok", "oss_endpoint": c.ctx.oss_base_url, "sts_endpoint": c.ctx.sts_base_url,
                  "ram_endpoint": c.ctx.ram_base_url, "region": c.ctx.region})


def _clock_state(c: Call) -> dict[str, object]:
    now = c.ctx.clock.now()
    return {"offset_seconds": c.ctx.clock.offset, "now": iso8601_s(now), "epoch": now,
            "version": c.ctx.clock.version}


LONG_POLL_SECONDS = 20.0


async def _until_moved(c: Call, seen: int) -> None:
    """Return once the clock's version is not `seen`, the client hung up, or LONG_POLL_SECONDS passed.
    Woken by the move itself (from whichever thread made it), not by polling."""
    loop = asyncio.get_running_loop()
    moved = asyncio.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):   # the loop closed under a shutdown
            loop.call_soon_threadsafe(moved.set)

    c.ctx.clock.listen(wake)
    waiters = {asyncio.ensure_future(c.body.wait_for_disconnect()), asyncio.ensure_future(moved.wait())}
    try:
        if c.ctx.clock.version == seen:
            await asyncio.wait(waiters, timeout=LONG_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        c.ctx.clock.unlisten(wake)
        for task in waiters:
            task.cancel()


async def clock(c: Call) -> Response:
    if c.req.method == "GET":
        wait = c.req.q("wait")
        if wait is not None:
            try:
                seen = int(wait)
            except ValueError as exc:
                raise InvalidArgument("wait must be the clock version you last saw.") from exc
            await _until_moved(c, seen)
        return _json(_clock_state(c))
    if c.req.method != "POST":
        raise InvalidArgument("Use GET or POST.")
    raw = await c.body.read_all(limit=4096)
    try:
        doc = json.loads(raw or b"{}")
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        if "advance" in doc:
            value = float(doc["advance"])
            if not math.isfinite(value) or abs(value) > 10 * 365 * 86400:
                raise ValueError("out of range")
            c.ctx.clock.advance(value)
        elif "offset" in doc:
            value = float(doc["offset"])
            if not math.isfinite(value) or abs(value) > 10 * 365 * 86400:
                raise ValueError("out of range")
            c.ctx.clock.set_offset(value)
        else:
            raise ValueError("need advance or offset")
    except (ValueError, TypeError) as exc:
        raise InvalidArgument('Send {"advance": seconds} or {"offset": seconds}.') from exc
    return _json(_clock_state(c))


ADMIN = {LOCAL_KEY_FILE: public_key, "health": health, "clock": clock}
