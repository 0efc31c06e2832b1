"""OPTIONS preflight, answered from the bucket's CORS rules (browsers upload straight to OSS).

Wire code: matching and the ResponseVary flag live in `oss.cors`; a refusal is raised, rendered by the app.
"""

from __future__ import annotations

from starlette.responses import Response

from helpers.localcloud.errors import AccessDenied
from helpers.localcloud.oss.call import Call
from helpers.localcloud.oss.cors import preflight as match_preflight
from helpers.localcloud.oss.handlers.common import in_thread


async def preflight(c: Call) -> Response:
    if c.req.bucket is None:
        raise AccessDenied("CORS is not enabled for this service-level request.")
    bucket = await in_thread(c.ctx.store.get_bucket, c.req.bucket)
    h = c.req.headers
    headers = match_preflight(bucket.cors_rules, origin=h.get("origin"),
                              method=h.get("access-control-request-method"),
                              request_headers=h.get("access-control-request-headers"))
    return Response(b"", status_code=200, headers=headers)
