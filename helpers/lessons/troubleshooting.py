"""What notebook 10 (常见错误排查, troubleshooting) shows: the errors a developer of a direct-upload app
meets, each provoked on purpose through the same clients the app uses, then explained.

    cases = Casebook()
    with cases.case("skew"):                       # prints the refusal, its EC, what it means, the fix
        skewed_upload(alice, "skew.txt", b"...", minutes=20)
    cases.table()                                  # one row per case met: code, EC, meaning, fix

The provocations:
    skewed_upload(client, key, data, minutes)      a PutObject signed (v2 SDK) with a clock N minutes slow
    made_up_key_upload(book, key, data)            oss2 with an AccessKeyId that does not exist
    tampered_token_upload(client, key, data)       the client's real STS key, a damaged SecurityToken
    signed_put(book, client, key, path, signed_type, sent_type)   a signed PUT URL sent with another type
    preflight(book, origin, method, headers)       the browser's CORS OPTIONS request, its answer shown
    BadCallbackServer()                            a loopback server answering non-JSON or too slowly
    callback_upload(client, key, data, url)        PutObject with a callback; 203 raised as a refusal
    (parts too small: helpers.lessons.large_files.multipart_by_hand, as in notebook 09)

Reaches OSS over HTTP only, never helpers.localcloud. Prints no secret: the AccessKeyId made up here is
not a real one, and real credentials are only used to sign.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import oss2

from helpers import http_clients
from helpers.client.errors import oss_error
from helpers.client.results import UploadResult, call_oss2, call_v2, raise_for_oss
from helpers.displays import show_table
from helpers.lessons.callback import upload_with_callback_url
from helpers.refusals import PLACEHOLDER_EC, Refusal, refused

if TYPE_CHECKING:
    from helpers.client.mobile import MobileClient
    from helpers.workbook import Book

# An AccessKeyId that cannot exist: real ones are LTAI + letters and digits only.
MADE_UP_KEY_ID = "LTAI-made-up-key-id"
SLOW_SECONDS = 6.0      # longer than OSS's fixed 5 s callback timeout
# What a browser reads from a preflight's answer before it sends the upload itself.
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
                "Access-Control-Expose-Headers", "Access-Control-Max-Age")


@dataclass(frozen=True)
class Case:
    """One error of the catalogue: the code OSS answers with, what it means, how to fix it."""

    code: str
    status: int
    meaning: str
    fix: str
    gist: str       # the meaning in a few words, for the summary table
    remedy: str     # the fix in a few words, for the summary table


CASES: dict[str, Case] = {
    "skew": Case("RequestTimeTooSkewed", 403,
                 "the request's time (Date / x-oss-date) is more than 15 minutes from OSS's clock",
                 "sync the device clock (NTP), or sign with the server's time: offset = Date of an "
                 "OSS answer − local time",
                 'request time ≠ OSS time by > 15 min', "fix the clock / sign with OSS's time"),
    "bad-key": Case("InvalidAccessKeyId", 403,
                    "OSS knows no such AccessKeyId: mistyped, deleted or disabled in RAM",
                    "check the key in the RAM console; a deleted key never comes back, create a new one",
                    "no such AccessKeyId", "use an existing, enabled key"),
    "bad-token": Case("InvalidSecurityToken", 403,
                      "the SecurityToken is damaged or does not belong to the STS AccessKeyId sent",
                      "send the three values of one AssumeRole answer unchanged (no truncation, no mixing)",
                      "SecurityToken damaged or mismatched", "send one AssumeRole answer unchanged"),
    "expired-token": Case("SecurityTokenExpired", 403,
                          "the STS credentials' Expiration has passed",
                          "ask the app server for new credentials before Expiration (refresh a few "
                          "minutes early, and on this code)",
                          "STS credentials past Expiration", "fetch new ones before Expiration"),
    "content-type": Case("SignatureDoesNotMatch", 403,
                         "the request differs from what was signed (here its Content-Type)",
                         "send exactly the headers the URL was signed with (the app server returns them)",
                         "request ≠ what was signed", "send the signed headers exactly"),
    "cors": Case("AccessForbidden", 403,
                 "the bucket's CORS rules do not allow this origin, method or headers: the browser's "
                 "preflight is refused and the upload never leaves the page",
                 "add a CORS rule for the page's origin (scheme://host:port), methods and headers `*`",
                 "origin not allowed by CORS rules", "add a CORS rule for the origin"),
    "callback-not-json": Case("CallbackFailed", 203,
                              "the object is stored, but the callback server answered something not JSON",
                              "make the callback endpoint answer 200 with a JSON body",
                              "callback answer not JSON (stored)", "answer 200 with JSON"),
    "callback-timeout": Case("CallbackFailed", 203,
                             "the object is stored, but the callback server took more than 5 s",
                             "answer the callback within 5 s; do slow work after answering",
                             "callback took > 5 s (stored)", "answer within 5 s"),
    "part-too-small": Case("EntityTooSmall", 400,
                           "a multipart upload's part (except the last) is under 100 KB; OSS checks at "
                           "Complete",
                           "use parts of at least 100 KB (the SDKs' resumable upload rounds up)",
                           "a non-last part < 100 KB", "parts of at least 100 KB"),
}


@dataclass
class Casebook:
    """The cases met so far, each with the refusal OSS gave; `table()` prints them."""

    met: list[tuple[Case, Refusal]] = field(default_factory=list)

    @contextlib.contextmanager
    def case(self, name: str) -> Iterator[Refusal]:
        """Expect the block to be refused as case `name`: print the refusal (with its EC), then what
        it means and the fix. Raises NotRefused (helpers.refusals) when the lesson would be wrong."""
        c = CASES[name]
        with refused(c.code, status=c.status) as outcome:
            yield outcome
        self.met.append((c, outcome))
        print(f"  means: {c.meaning}")
        print(f"  fix:   {c.fix}")

    def rows(self) -> list[dict[str, str]]:
        return [{"code": c.code, "HTTP": str(r.status), "EC": _ec(r), "what it means": c.gist,
                 "the fix": c.remedy} for c, r in self.met]

    def table(self) -> None:
        """Every case met: code, HTTP status, EC, what it means, the fix."""
        show_table(self.rows())


def _ec(r: Refusal) -> str:
    if r.ec == PLACEHOLDER_EC:
        return "(local: none)"
    return r.ec or "—"


# --- clocks and keys -----------------------------------------------------------------------------------
def skewed_upload(client: MobileClient, key: str, data: bytes, *, minutes: float) -> None:
    """PutObject through the official v2 SDK with the client's STS credentials, signed as a phone whose
    clock is `minutes` behind real time (the SDK signs with the time in `x-oss-date` when given). One
    attempt: the SDK would otherwise retry, with the same wrong time."""
    import alibabacloud_oss_v2 as oss_v2

    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes)
    request = oss_v2.models.PutObjectRequest(bucket=client.target("upload").bucket,
                                             key=client.full_key(key, "upload"), body=data,
                                             headers={"x-oss-date": email.utils.format_datetime(when, True)})
    print(f"signing with a clock {minutes:g} minutes slow")
    sdk = client.v2_client("upload")
    call_v2(lambda: sdk.put_object(request, retry_max_attempts=1))


def made_up_key_upload(book: Book, key: str, data: bytes) -> None:
    """PutObject with oss2 signing (V4) with an AccessKeyId that does not exist, as a mistyped or
    deleted key would."""
    auth = oss2.AuthV4(MADE_UP_KEY_ID, "a-secret-that-does-not-matter")
    bucket = oss2.Bucket(auth, book.oss_endpoint, book.bucket, region=book.region)
    call_oss2(lambda: bucket.put_object(key, data))


def tampered_token_upload(client: MobileClient, key: str, data: bytes) -> None:
    """PutObject with the client's real STS AccessKeyId and secret but its SecurityToken cut short,
    as a token truncated by a too-small database column or a log line would be."""
    c = client.providers["upload"].get()
    t = client.target("upload")
    auth = oss2.StsAuth(c.access_key_id, c.access_key_secret, c.security_token[: len(c.security_token) // 2],
                        auth_version=oss2.AUTH_VERSION_4)
    bucket = oss2.Bucket(auth, t.endpoint, t.bucket, region=t.region)
    call_oss2(lambda: bucket.put_object(client.full_key(key, "upload"), data))


# --- signed URLs ----------------------------------------------------------------------------------------
def signed_put(book: Book, client: MobileClient, key: str, path: str | Path, *, signed_type: str,
               sent_type: str) -> None:
    """Ask the app server for a PUT URL signed for `signed_type`, then PUT the file with `sent_type`,
    as a page that lets the browser pick the type would. Prints the HTTP status; raises on refusal."""
    signed = client.api.signed_url("PUT", key, content_type=signed_type, signature_version="v4")
    headers = {**signed.headers, "Content-Type": sent_type}
    print(f"signed for Content-Type {signed_type}; sent with Content-Type {sent_type}")
    with http_clients.client(timeout=30, event_hooks=book.recorder.httpx_hooks("OSS")) as http:
        with Path(path).open("rb") as f:
            response = http.put(signed.url, content=f.read(), headers=headers)
    raise_for_oss(response)
    print(f"  HTTP {response.status_code}: stored")


# --- CORS -----------------------------------------------------------------------------------------------
def preflight(book: Book, key: str, *, origin: str, method: str = "PUT",
              headers: str = "content-type") -> dict[str, str]:
    """The browser's preflight for a cross-origin upload: OPTIONS with Origin and the
    Access-Control-Request-* headers. Prints the status and the Access-Control-* headers OSS answered
    (the ones the browser needs); raises the refusal when OSS refuses it."""
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method,
                       "Access-Control-Request-Headers": headers}
    with http_clients.client(timeout=30, event_hooks=book.recorder.httpx_hooks("OSS")) as http:
        response = http.options(f"{book.oss_endpoint}/{book.bucket}/{key}", headers=request_headers)
    cors = {k.title(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}
    print(f"OPTIONS from {_origin_label(book, origin)}: HTTP {response.status_code}")
    for name in CORS_HEADERS:
        print(f"  {name:<30} {cors.get(name, '(absent)')}")
    raise_for_oss(response)
    return cors


def _origin_label(book: Book, origin: str) -> str:
    """The app server's origin named as such (its port changes every run)."""
    return "the app server's page" if origin == book.appserver_url else origin


# --- callbacks ------------------------------------------------------------------------------------------
class _BadCallback(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/slow"):
            time.sleep(SLOW_SECONDS)
        body = b"OK" if self.path.startswith("/not-json") else b'{"ok": true}'
        kind = "text/plain" if self.path.startswith("/not-json") else "application/json"
        with contextlib.suppress(OSError):    # OSS may have hung up on the slow answer already
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        pass    # keep the notebook's stderr empty


class BadCallbackServer:
    """A callback server in this kernel on a loopback port (local cloud only: real OSS does not call
    private addresses): `/not-json` answers 200 with the text `OK`, `/slow` answers after 6 s."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _BadCallback)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{path.lstrip('/')}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> BadCallbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def callback_upload(client: MobileClient, key: str, data: bytes, url: str) -> UploadResult:
    """PutObject with a callback to `url`. A 203 answer is raised as the refusal it is for the app
    (Code CallbackFailed, OSS's Message and EC), after saying that the object was stored anyway."""
    result = upload_with_callback_url(client, key, data, url)
    if result.status != 203:
        return result
    reply = result.callback_reply if isinstance(result.callback_reply, dict) else {}
    print(f"{result.key}: HTTP 203, object stored ({result.size} bytes), callback failed")
    raise oss_error(203, str(reply.get("Code", "CallbackFailed")), str(reply.get("Message", "")),
                    result.request_id, ec=str(reply.get("EC", "")))
