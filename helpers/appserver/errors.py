"""The app server's domain errors, mapped to HTTP statuses once in `main.py`.

    AppError                    base; `status` and a client-safe `detail` (never a secret)
    ├── BadRequest              400  input passed the schema but breaks a rule (key, name, size)
    ├── NotAuthenticated        401  missing, malformed, expired or unknown bearer session / login
    ├── Forbidden               403  authenticated but not allowed
    ├── CallbackRejected        400  an OSS callback that failed verification or its rules
    └── UpstreamError           502  STS or OSS refused or was unreachable (details only in the log)

Imports nothing from FastAPI or Starlette.
"""

from __future__ import annotations


class AppError(Exception):
    status: int = 400
    default_detail: str = "bad request"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class BadRequest(AppError):
    status, default_detail = 400, "bad request"


class NotAuthenticated(AppError):
    status, default_detail = 401, "not authenticated"


class Forbidden(AppError):
    status, default_detail = 403, "forbidden"


class CallbackRejected(AppError):
    status, default_detail = 400, "callback rejected"


class UpstreamError(AppError):
    status, default_detail = 502, "the cloud service refused the request"
