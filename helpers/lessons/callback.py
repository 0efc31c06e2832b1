"""What notebook 04 (上传回调, upload callback) shows: the app server's verification step by step,
its public-key URL allow-list, a callback that cannot be delivered (203 CallbackFailed, the object
kept), and forged callbacks sent straight to the app server.

    capture_callback(client, key, data)       PutObject whose callback comes to a recorder in this kernel
    verify_steps(book, captured)              the app server's checks, one printed step at a time
    string_to_sign(path, query, body)         what the RSA-MD5 signature covers (the app server's function)
    allow_list_decisions(book)                rows url/allowed for real, look-alike and hostile key URLs
    upload_with_unreachable_callback(client, key, data)   PutObject whose callbackUrl is a closed port
    upload_with_callback_url(client, key, data, url, body_template=...)   PutObject calling back to any URL
    app_callback_url(client, key)             the app server's own callback URL (from its form policy)
    forge_callback(book, key, case)           POST /api/callback as an attacker; raises CallbackRefused

Uses the app server's own verification functions (`helpers.appserver.services.callbacks`) where it
explains them, so what is shown is what runs. Reaches the local cloud over HTTP only.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx

from helpers import http_clients
from helpers.appserver.services import callbacks as _verify
from helpers.appserver.services.signing import CALLBACK_BODY
from helpers.client.results import UploadResult, call_oss2, callback_reply
from helpers.protocol.callback_keys import allowed_key_urls, local_key_url

if TYPE_CHECKING:
    from helpers.client.mobile import MobileClient
    from helpers.workbook import Book

SYSTEM_VARIABLES = {
    "bucket": "the bucket name", "object": "the object key", "etag": "the object's ETag",
    "size": "the object size in bytes", "mimeType": "the Content-Type", "imageInfo.height":
    "image height (images only)", "imageInfo.width": "image width (images only)",
    "imageInfo.format": "image format (images only)", "crc64": "the object's CRC-64",
    "contentMd5": "the Content-MD5 sent, if any", "clientIp": "the uploader's IP address",
    "reqId": "the OSS request id", "operation": "the API that uploaded (PutObject, PostObject, ...)",
}


class CallbackRefused(Exception):
    """The app server refused a callback (HTTP 400); `code` names its error class, CallbackRejected."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"app server answered {status}: {detail}")
        self.status = status
        self.code = "CallbackRejected"
        self.message = detail


def string_to_sign(path: str, query: str, body: bytes) -> bytes:
    """The bytes OSS signs: URL-decoded path, `?` + raw query if any, "\\n", raw body (app server code)."""
    return _verify.string_to_sign(path, query, body)


def allowed_prefixes(book: Book) -> tuple[str, ...]:
    """The app server's public-key URL allow-list on this target (real OSS's, plus the local cloud's)."""
    return allowed_key_urls(book.oss_endpoint, local=book.target == "local")


def allow_list_decisions(book: Book) -> list[dict[str, str]]:
    """The allow-list decision (`key_url_allowed`, the app server's function) for genuine and hostile URLs."""
    prefixes = allowed_prefixes(book)
    cases = [
        ("real OSS key, http", "http://gosspublic.alicdn.com/callback_pub_key_v1.pem"),
        ("real OSS key, https", "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"),
        ("look-alike host", "https://gosspublic.alicdn.com.evil.example/callback_pub_key_v1.pem"),
        ("user@host", "https://gosspublic.alicdn.com@evil.example/callback_pub_key_v1.pem"),
        ("other host", "https://evil.example/callback_pub_key_v1.pem"),
        ("path escape", "https://gosspublic.alicdn.com/../evil.pem"),
        ("query added", "https://gosspublic.alicdn.com/callback_pub_key_v1.pem?x=1"),
        ("ftp scheme", "ftp://gosspublic.alicdn.com/callback_pub_key_v1.pem"),
    ]
    if book.target == "local":
        cases.append(("local cloud's key", local_key_url(book.oss_endpoint)))
        cases.append(("local cloud, other path", book.oss_endpoint + "/_localcloud/other.pem"))
    return [{"case": name, "url": url,
             "decision": "allowed" if _verify.key_url_allowed(url, prefixes) else "refused"}
            for name, url in cases]


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released), for a callback that must fail."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def upload_with_unreachable_callback(client: MobileClient, key: str, data: bytes) -> UploadResult:
    """PutObject with the client's STS credentials and an `x-oss-callback` whose URL is a closed
    loopback port: OSS stores the object, cannot call back, and answers 203 CallbackFailed."""
    return upload_with_callback_url(client, key, data, f"http://127.0.0.1:{closed_loopback_port()}/api/callback")


FORM_BODY_TYPE = "application/x-www-form-urlencoded"  # OSS's default callbackBodyType


def upload_with_callback_url(client: MobileClient, key: str, data: bytes, url: str, *,
                             body_template: str = "bucket=${bucket}&object=${object}&size=${size}",
                             body_type: str = FORM_BODY_TYPE, content_type: str | None = None,
                             ) -> UploadResult:
    """PutObject with the client's STS credentials and an `x-oss-callback` to `url` (`body_template` of
    `body_type`; the client's user name as the custom variable `x:user`): the upload's answer, 200 with
    the callback server's JSON or 203 with OSS's CallbackFailed."""
    full = client.full_key(key, "upload")
    doc = {"callbackUrl": url, "callbackBody": body_template, "callbackBodyType": body_type}
    headers = {"x-oss-callback": base64.b64encode(json.dumps(doc).encode()).decode(),
               "x-oss-callback-var": base64.b64encode(json.dumps({"x:user": client.username}).encode()
                                                      ).decode()}
    if content_type is not None:
        headers["Content-Type"] = content_type
    bucket = client.oss2_bucket("upload")
    result = call_oss2(lambda: bucket.put_object(full, data, headers=headers))
    body = result.resp.read()
    reply = callback_reply(httpx.Response(result.status, headers=dict(result.headers), content=body))
    return UploadResult(full, result.status, str(result.etag or "").strip('"'), None, len(data),
                        result.request_id, reply)


def app_callback_url(client: MobileClient, key: str) -> str:
    """The app server's callback URL (where OSS must post), as it puts it in a callback form policy."""
    policy = client.api.post_policy(key, callback=True)
    return str(json.loads(base64.b64decode(policy.fields["callback"]))["callbackUrl"])


FORGERIES = ("random signature", "attacker's key URL", "look-alike key host")


def forge_callback(book: Book, key: str, case: str) -> dict[str, Any]:
    """POST /api/callback as an attacker would, claiming `key` was uploaded by alice.

    `case`: "random signature" (the real key URL, 256 random bytes as signature), "attacker's key URL"
    (a URL the attacker controls), "look-alike key host". Raises CallbackRefused on refusal."""
    body = json.dumps({"bucket": book.bucket, "object": key, "size": "4", "mimeType": "text/plain",
                       "etag": "0" * 32, "user": "alice"}).encode()
    real_key_url = (local_key_url(book.oss_endpoint) if book.target == "local"
                    else "https://gosspublic.alicdn.com/callback_pub_key_v1.pem")
    key_url = {"random signature": real_key_url,
               "attacker's key URL": f"http://127.0.0.1:{closed_loopback_port()}/callback_pub_key_v1.pem",
               "look-alike key host": "https://gosspublic.alicdn.com.evil.example/callback_pub_key_v1.pem",
               }[case]
    headers = {"Authorization": base64.b64encode(os.urandom(256)).decode(),
               "x-oss-pub-key-url": base64.b64encode(key_url.encode()).decode(),
               "Content-Type": "application/json"}
    r = http_clients.post(book.appserver_url + "/api/callback", content=body, headers=headers, timeout=30)
    if r.status_code >= 300:
        try:
            detail = str(r.json().get("detail", ""))
        except ValueError:
            detail = r.reason_phrase
        raise CallbackRefused(r.status_code, detail)
    return dict(r.json())


# --- a callback captured in this kernel, verified step by step ------------------------------------------
@dataclass(frozen=True)
class Captured:
    """One callback request as it arrived: raw path and query, headers (lower-case), raw body."""

    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class _Recorder(BaseHTTPRequestHandler):
    captured: list[Captured]

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path, _, query = self.path.partition("?")
        self.captured.append(Captured(path, query, {k.lower(): v for k, v in self.headers.items()}, body))
        reply = b'{"ok": true, "note": "captured by the notebook"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        pass    # keep the notebook's stderr empty


def capture_callback(client: MobileClient, key: str, data: bytes, *,
                     body_template: str = CALLBACK_BODY, content_type: str = "text/plain") -> Captured:
    """PutObject (the client's STS credentials) with the app server's callback template, but the
    callback URL pointing at a recorder in this kernel (loopback: local cloud only)."""
    captured: list[Captured] = []
    handler = type("Recorder", (_Recorder,), {"captured": captured})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        doc = {"callbackUrl": f"http://127.0.0.1:{server.server_address[1]}/api/callback",
               "callbackBody": body_template, "callbackBodyType": "application/json"}
        headers = {"x-oss-callback": base64.b64encode(json.dumps(doc).encode()).decode(),
                   "x-oss-callback-var": base64.b64encode(json.dumps({"x:user": client.username}).encode()
                                                          ).decode(),
                   "Content-Type": content_type}
        full = client.full_key(key, "upload")
        bucket = client.oss2_bucket("upload")
        result = call_oss2(lambda: bucket.put_object(full, data, headers=headers))
        result.resp.read()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    if not captured:
        raise RuntimeError("OSS did not call back")
    return captured[0]


def verify_steps(book: Book, captured: Captured, *, tamper_body: bool = False) -> bool:
    """The app server's verification of `captured` step by step, with its own functions; with
    `tamper_body` the body's size is changed first, as an attacker editing it would. True if it verifies."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    sent = captured.body
    if tamper_body:
        doc = json.loads(sent)
        doc["size"] = str(int(doc.get("size") or 0) * 1000)
        sent = json.dumps(doc, separators=(",", ":")).encode()
        print(f"0. body edited: size is now {doc['size']}")
    key_url = base64.b64decode(captured.headers["x-oss-pub-key-url"]).decode("ascii")
    shown_url = key_url.replace(book.oss_endpoint, "<OSS endpoint>")
    print(f"1. x-oss-pub-key-url decodes to {shown_url}")
    allowed = _verify.key_url_allowed(key_url, allowed_prefixes(book))
    decision = "allowed" if allowed else "refused"
    print(f"2. allow-list (scheme, host, port, path compared after parsing): {decision}")
    if not allowed:
        return False
    public_key = _verify.PublicKeyCache().get(key_url)
    print(f"3. public key fetched from that URL: RSA {public_key.key_size} bits")
    text = string_to_sign(captured.path, captured.query, sent)
    head, _, rest = text.partition(b"\n")
    print(f"4. string to sign: {head.decode()!r} + '\\n' + body ({len(rest)} bytes)")
    signature = base64.b64decode(captured.headers["authorization"])
    try:
        public_key.verify(signature, text, padding.PKCS1v15(), hashes.MD5())
    except InvalidSignature:
        print(f"5. RSA PKCS#1 v1.5 over MD5 of it, signature {len(signature)} bytes: does NOT verify")
        return False
    print(f"5. RSA PKCS#1 v1.5 over MD5 of it, signature {len(signature)} bytes: verifies")
    return True


def variables_table() -> list[dict[str, str]]:
    """OSS's callback system variables, as rows for `workbook.show_table`."""
    return [{"variable": "${" + name + "}", "meaning": meaning} for name, meaning in SYSTEM_VARIABLES.items()]


def show_reply(result: UploadResult) -> None:
    """Status of an upload and the callback reply OSS passed through (without the database row id)."""
    reply = result.callback_reply
    if isinstance(reply, dict):
        reply = {k: v for k, v in reply.items() if k != "id"}
    print(f"{result.key}: HTTP {result.status}")
    print(f"  callback reply: {reply}")


def recorded(client: MobileClient, keys: list[str]) -> None:
    """Which of `keys` the app server recorded for this user (GET /api/uploads, verified callbacks only)."""
    full = [client.full_key(k) for k in keys]
    rows = {u["key"]: u for u in client.list_uploads() if u["key"] in full}
    for key in full:
        row = rows.get(key)
        print(f"  {key}: " + (f"recorded ({row['size']} bytes, {row['mime_type']})" if row else "no record"))


def show_captured(captured: Captured) -> None:
    """The captured callback request: path, content type and the body OSS rendered."""
    print(f"OSS posted {captured.path} ({captured.headers.get('content-type', '')}):")
    print(f"  {captured.body.decode('utf-8', 'replace')}")


def show_stored(client: MobileClient, key: str) -> None:
    """Whether the object is in OSS (read with the client's download credentials)."""
    print(f"  object kept in OSS: {client.download(key).size} bytes")
