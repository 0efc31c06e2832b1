"""The client's errors: one base, each carrying what the caller needs and never a secret.

    ClientError                       base of everything `helpers.client` raises
    ├── AppServerError                the app server answered non-2xx: `status`, `detail`
    │   ├── NotAuthenticated          401 bad login or expired bearer session
    │   ├── PermissionDenied          403
    │   ├── BadRequest                400 / 422 a rule or the schema refused the input
    │   └── ServiceUnavailable        5xx (502: STS or OSS refused the app server)
    ├── AppServerUnreachable          no HTTP answer from the app server (connect, timeout)
    ├── CredentialsUnavailable        no valid STS credentials: fetch failed and the cache is expired
    ├── OssRequestError               OSS refused a request: `status`, `code`, `message`, `ec`, ...
    │   └── OssAccessDenied           code AccessDenied (another user's folder, wrong scope)
    ├── OssUnreachable                no HTTP answer from OSS
    └── IntegrityError                bytes sent or received disagree with OSS's CRC-64

Imports nothing from `helpers`.
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of the client's errors."""


class AppServerError(ClientError):
    """The app server refused a call; `detail` is its client-safe explanation."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"app server answered {status}: {detail}")
        self.status = status
        self.detail = detail


class NotAuthenticated(AppServerError):
    pass


class PermissionDenied(AppServerError):
    pass


class BadRequest(AppServerError):
    pass


class ServiceUnavailable(AppServerError):
    pass


class AppServerUnreachable(ClientError):
    pass


class CredentialsUnavailable(ClientError):
    pass


class OssRequestError(ClientError):
    """OSS answered with an error document (reference §9.4)."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "", *, ec: str = "",
                 recommend_doc: str = "") -> None:
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"OSS {status} {code}: {message}{suffix}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.ec = ec                        # OSS's finer error code (<EC>), e.g. 0003-00000001
        self.recommend_doc = recommend_doc  # OSS's <RecommendDoc> troubleshooting URL, if sent


class OssAccessDenied(OssRequestError):
    pass


class OssUnreachable(ClientError):
    pass


class IntegrityError(ClientError):
    pass


_BY_STATUS: dict[int, type[AppServerError]] = {
    400: BadRequest, 422: BadRequest, 401: NotAuthenticated, 403: PermissionDenied,
}


def app_server_error(status: int, detail: str) -> AppServerError:
    """The AppServerError subclass for an HTTP status."""
    cls = _BY_STATUS.get(status) or (ServiceUnavailable if status >= 500 else AppServerError)
    return cls(status, detail)


def oss_error(status: int, code: str, message: str, request_id: str = "", *, ec: str = "",
              recommend_doc: str = "") -> OssRequestError:
    """The OssRequestError subclass for an OSS error code."""
    cls = OssAccessDenied if code == "AccessDenied" else OssRequestError
    return cls(status, code, message, request_id, ec=ec, recommend_doc=recommend_doc)
