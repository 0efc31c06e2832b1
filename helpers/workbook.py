"""What the notebooks call: connect to a target, make app users' clients, show refusals and diagrams.

    book = workbook.connect("local")        # starts (or reuses) the local stack
    alice = book.client("alice")            # a MobileClient whose exchanges the book records
    with workbook.refused("AccessDenied"):  # an expected refusal, shown with its real code
        alice.download("users/bob/x.txt", absolute=True)
    book.diagram()                          # the Mermaid sequence diagram of what just happened

Outputs say where they come from (the local cloud or Alibaba Cloud). Nothing here prints a secret:
credentials are shown masked, passwords never, and error texts (refusals, and in a kernel every
uncaught error) go through `helpers.logging.mask_error`. The developer's own calls from this
kernel (AssumeRole with the RAM key, cleanup) are drawn as the participant "Developer (notebook
kernel)", never as the app server's; AssumeRole uses the app server's own STS call
(`helpers.sts_client`), so an `https://` STS endpoint is reached over TLS.
What only the local cloud can do (move its clock, call back to loopback) is behind
`book.local_only(...)`, which explains and skips on `aliyun`.
Imports `helpers.localcloud` nowhere: the local cloud is reached over HTTP only.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from helpers import http_clients, stack
from helpers.displays import show_client_credentials, show_credentials, show_json, show_result, show_table
from helpers.logging import mask_error, mask_secret
from helpers.refusals import NotRefused, Refusal, describe_error, error_text, refused
from helpers.sequence_diagram import display_mermaid, mermaid
from helpers.trace import Recorder

# The notebooks call everything as `workbook.<name>`; refusals and displays live in their own modules.
__all__ = ["ALIYUN_ENV", "ALIYUN_ENV_HELP", "Book", "NotRefused", "Refusal", "Target", "WorkbookError",
           "connect", "describe_error", "error_text", "refused", "show_client_credentials",
           "show_credentials", "show_json", "show_result", "show_table"]

Target = Literal["local", "aliyun"]
# What `connect("aliyun")` reads, and what each is (the message names the missing ones).
ALIYUN_ENV_HELP = {
    "WORKBOOK_OSS_ENDPOINT": "the OSS endpoint of your region, e.g. https://oss-cn-hangzhou.aliyuncs.com",
    "WORKBOOK_STS_ENDPOINT": "the STS endpoint, e.g. https://sts.cn-hangzhou.aliyuncs.com",
    "WORKBOOK_REGION": "the region id, e.g. cn-hangzhou",
    "WORKBOOK_BUCKET": "the workbook's bucket (written by `python -m helpers.provision up`)",
    "WORKBOOK_ROLE_ARN": "the role the app server assumes (written by provisioning)",
    "WORKBOOK_ACCESS_KEY_ID": "the app server's RAM user key (written by provisioning)",
    "WORKBOOK_ACCESS_KEY_SECRET": "its secret (written by provisioning)",
    "WORKBOOK_APP_USERS": "the demo app users as JSON, the same the app server serves",
    "WORKBOOK_APPSERVER_URL": "where YOUR app server answers (the notebooks' client talks to it): set it "
                              "after `python -m helpers.appserver serve --public-url URL` is up, "
                              "e.g. https://app.example.com",
}
ALIYUN_ENV = tuple(ALIYUN_ENV_HELP)


# The participant of the developer's own calls from this kernel (AssumeRole with the RAM key, cleanup).
DEVELOPER = "Developer"


class WorkbookError(RuntimeError):
    """The workbook cannot run as asked (missing environment, stack not up, ...)."""


@dataclass
class Book:
    """One connection to a target: endpoints, demo users, a recorder, and the clients made so far."""

    target: Target
    oss_endpoint: str
    sts_endpoint: str
    appserver_url: str
    bucket: str
    region: str
    role_arn: str
    users: dict[str, str] = field(repr=False)   # username -> password (never printed)
    developer_key: tuple[str, str] = field(repr=False, default=("", ""))  # the app server's RAM key
    recorder: Recorder = field(default_factory=Recorder)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _clock_offset: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        # Exchanges before this instant are not this notebook's (a reused app server's trace keeps
        # earlier runs' records for these users; the recorder keeps them apart, see `earlier()`).
        self.recorder.start_at(time.time())

    @property
    def where(self) -> str:
        return "the local cloud" if self.target == "local" else "Alibaba Cloud"

    def banner(self) -> None:
        """Say where the outputs below come from."""
        print(f"Target: {self.where}. Outputs below come from {self.where}.")
        print(f"  bucket {self.bucket!r} in region {self.region}; app users: {', '.join(sorted(self.users))}")

    def client(self, username: str, *, signature_version: Literal["v4", "v1"] = "v4",
               follow_clock: bool = False) -> Any:
        """The mobile client of a demo app user (logged in), recording into this book.

        `follow_clock=True` (local only) gives the phone a clock that moves with the local cloud's
        (`advance_clock`), so its credentials cache sees time pass as OSS and STS do."""
        from helpers.client.mobile import MobileClient

        cache_key = f"{username}/{signature_version}" + ("/clock" if follow_clock else "")
        if cache_key not in self._clients:
            if username not in self.users:
                raise WorkbookError(f"no demo user {username!r}; there are {sorted(self.users)}")
            if follow_clock and self.target != "local":
                raise WorkbookError("only the local cloud has a movable clock to follow")
            extra: dict[str, Any] = {"now": self.cloud_now} if follow_clock else {}
            self._clients[cache_key] = MobileClient(self.appserver_url, username, self.users[username],
                                                    signature_version=signature_version,
                                                    recorder=self.recorder, **extra)
        return self._clients[cache_key]

    def health(self) -> list[dict[str, str]]:
        """One row per component (component, endpoint, status), from a harmless request to each.

        Unauthenticated probes: an answer with an error code still proves the service is there."""
        return [
            {"component": "OSS", "endpoint": self.oss_endpoint, "status": _probe_oss(self)},
            {"component": "STS", "endpoint": self.sts_endpoint, "status": _probe_sts(self.sts_endpoint)},
            {"component": "App server", "endpoint": self.appserver_url,
             "status": _probe(self.appserver_url + "/openapi.json", "answers (OpenAPI document)")},
            {"component": "Client", "endpoint": "this kernel (helpers.client)",
             "status": "ready (holds no AccessKey)"},
        ]

    def assume_role(self, policy: str | Mapping[str, Any] | None, *, session_name: str = "workbook",
                    duration: int = 900) -> dict[str, str]:
        """AssumeRole from this kernel with the developer's RAM key, through the same STS SDK call the
        app server makes (`helpers.sts_client.assume_role`): the returned temporary credentials
        (Credentials block of the STS answer). Drawn as the developer's call, not the app server's.
        Raises `StsRefused` (STS's status and code) or `StsUnreachable`; neither
        carries the signed request."""
        from helpers.sts_client import StsRefused, StsUnreachable
        from helpers.sts_client import assume_role as sts_assume_role

        ak, secret = self.developer_key
        if not ak:
            raise WorkbookError("the developer's RAM key is not configured for this target")
        started = time.time()
        path = f"/?Action=AssumeRole&RoleSessionName={session_name}"
        try:
            answer = sts_assume_role(endpoint=self.sts_endpoint, region=self.region, access_key_id=ak,
                                     access_key_secret=secret, role_arn=self.role_arn,
                                     session_name=session_name, duration=duration,
                                     policy=None if policy is None else
                                     policy if isinstance(policy, str) else json.dumps(policy))
        except (StsRefused, StsUnreachable) as exc:  # recorded for the diagram, then re-raised unchanged
            got = describe_error(exc)
            self.recorder.record(t=started, end=time.time(), source=DEVELOPER, target="STS", method="POST",
                                 path=path, status=got.status, note=got.code or "unreachable")
            raise
        creds = {"AccessKeyId": answer.access_key_id, "AccessKeySecret": answer.access_key_secret,
                 "SecurityToken": answer.security_token, "Expiration": answer.expiration}
        # Drawn as the developer's own call from this kernel (not the app server's); masked on the way in.
        self.recorder.record(t=started, end=time.time(), source=DEVELOPER, target="STS", method="POST",
                             path=path, status=200, note=f"AccessKeyId {mask_secret(creds['AccessKeyId'])}")
        return creds

    def oss_bucket(self, creds: Mapping[str, str]) -> Any:
        """An oss2 Bucket signing (V4) with temporary credentials as returned by `assume_role`; its
        requests are recorded as the developer's (`Developer` in diagrams)."""
        import oss2

        auth = oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"],
                            auth_version=oss2.AUTH_VERSION_4)
        session = oss2.Session()
        # The developer's requests are drawn as theirs (participant "Developer (notebook kernel)").
        self.recorder.install_requests(session.session, "OSS", source=DEVELOPER)
        return oss2.Bucket(auth, self.oss_endpoint, self.bucket, region=self.region, session=session)

    def delete_objects(self, keys: list[str]) -> None:
        """The developer's cleanup: AssumeRole with a session policy that allows DeleteObject on exactly
        these keys (no admin key), then delete them. Prints how many were deleted."""
        if not keys:
            print("nothing to delete")
            return
        policy = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["oss:DeleteObject"],
                  "Resource": [f"acs:oss:*:*:{self.bucket}/{k}" for k in sorted(set(keys))]}]}
        bucket = self.oss_bucket(self.assume_role(policy, session_name="workbook-cleanup"))
        for key in sorted(set(keys)):
            bucket.delete_object(key)
        print(f"deleted {len(set(keys))} objects (with a session policy allowing only their deletion)")

    # --- what only the local cloud can do --------------------------------------------------------
    def local_only(self, what: str) -> bool:
        """True on the local cloud; on Alibaba Cloud, explain why `what` is skipped and return False."""
        if self.target == "local":
            return True
        print(f"Skipped on Alibaba Cloud: {what} needs the local cloud (its movable clock or loopback "
              "callbacks), which the real service does not offer.")
        return False

    def advance_clock(self, seconds: float, *, quiet: bool = False) -> None:
        """Move the local cloud's clock forward (loopback admin call; the real service has none).
        `quiet` skips the printed line (for helpers that say what they moved in their own words)."""
        if self.target != "local":
            raise WorkbookError("only the local cloud has a movable clock")
        r = http_clients.post(self.oss_endpoint + "/_localcloud/clock", json={"advance": seconds}, timeout=10)
        r.raise_for_status()
        self._clock_offset = float(r.json().get("offset_seconds", 0.0))
        self._wait_for_appserver_clock()
        if not quiet:
            print(f"The local cloud's clock moved {seconds:+.0f} s "
                  "(a local-only call; real time did not move).")

    def reset_clock(self) -> None:
        if self.target == "local":
            r = http_clients.post(self.oss_endpoint + "/_localcloud/clock", json={"offset": 0}, timeout=10)
            r.raise_for_status()
            self._clock_offset = 0.0
            self._wait_for_appserver_clock()

    def _wait_for_appserver_clock(self, timeout: float = 5.0) -> None:
        """The stack's app server follows the local cloud's clock (a long poll that answers on every
        move): wait until its `Date` shows the new time, so the next step sees one time everywhere."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, KeyError, TypeError, ValueError):
                r = http_clients.get(self.appserver_url + "/api/health", timeout=5)
                if abs(parsedate_to_datetime(r.headers["date"]).timestamp() - self.cloud_now()) < 2:
                    return
            time.sleep(0.01)

    def cloud_now(self) -> float:
        """The local cloud's time (real time plus the offset this book set); real time on Alibaba Cloud."""
        return time.time() + self._clock_offset

    # --- showing what happened --------------------------------------------------------------------
    def diagram(self, title: str | None = None, *, clear: bool = True) -> None:
        """Display the sequence diagram of the exchanges recorded since the last call (or since
        `connect`: what the app server recorded for these users before is not this notebook's).
        Returns None, so a cell ending with it shows the diagram once."""
        text = mermaid(self.recorder.exchanges(), title=title)
        if clear:
            self.forget()
        display_mermaid(text)

    def forget(self) -> None:
        """Start the next diagram here: the exchanges recorded so far are dropped from this book's
        recorder. Only the picture is reset: no cache is touched (the app server keeps its cached STS
        credentials, each client keeps its own)."""
        self.recorder.clear()
        self.recorder.start_at(time.time())

    def close(self) -> None:
        for c in self._clients.values():
            with contextlib.suppress(Exception):
                c.close()
        self._clients.clear()


def connect(target: Target = "local", *, state_dir: str | Path | None = None) -> Book:
    """A Book on the local stack (started now, or reused if it runs) or on Alibaba Cloud (from env).
    In a notebook kernel, also masks every uncaught error from here on (`mask_uncaught_errors`)."""
    mask_uncaught_errors()
    if target == "local":
        info = stack.up(Path(state_dir) if state_dir else None)
        doc = json.loads(Path(info.credentials_file).read_text(encoding="utf-8"))
        users = {u["username"]: u["password"] for u in doc["app_users"]}
        if info.appserver_url is None:
            raise WorkbookError("the stack has no app server; run `python -m helpers.stack up`")
        key = (doc["appserver"]["access_key_id"], doc["appserver"]["access_key_secret"])
        book = Book("local", info.oss_endpoint, info.sts_endpoint, info.appserver_url, info.bucket,
                    info.region, info.role_arn, users, key)
        # Each notebook starts at the present: a clock left moved by an interrupted run is put back.
        book.reset_clock()
        return book
    if target == "aliyun":
        missing = [name for name in ALIYUN_ENV if not os.environ.get(name)]
        if missing:
            raise WorkbookError("target 'aliyun' needs these environment variables (see the README's "
                                "deployment sequence):\n" + "\n".join(f"  {name}: {ALIYUN_ENV_HELP[name]}"
                                                                       for name in missing))
        try:
            users = json.loads(os.environ["WORKBOOK_APP_USERS"])
        except ValueError:
            users = None
        if not isinstance(users, dict) or not users:
            raise WorkbookError('WORKBOOK_APP_USERS must be a JSON object of the demo users: '
                                '{"alice": "<password>", ...}')
        return Book("aliyun", os.environ["WORKBOOK_OSS_ENDPOINT"], os.environ["WORKBOOK_STS_ENDPOINT"],
                    os.environ["WORKBOOK_APPSERVER_URL"].rstrip("/"), os.environ["WORKBOOK_BUCKET"],
                    os.environ["WORKBOOK_REGION"], os.environ["WORKBOOK_ROLE_ARN"], users,
                    (os.environ["WORKBOOK_ACCESS_KEY_ID"], os.environ["WORKBOOK_ACCESS_KEY_SECRET"]))
    raise WorkbookError(f"unknown target {target!r}: use 'local' or 'aliyun'")


def mask_uncaught_errors(shell: Any = None) -> bool:
    """Show every uncaught error of this IPython shell (the running kernel's by default) masked by
    `helpers.logging.mask_error`, traceback and message alike: an SDK error's text can quote a whole
    signed request. Idempotent; False when there is no IPython shell (plain Python, tests)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    if getattr(shell, "_workbook_masks_errors", False):
        return True

    def show_masked(self: Any, etype: type[BaseException], value: BaseException, tb: Any,
                    tb_offset: int | None = None) -> list[str]:
        stb = [mask_error(line) for line in
               self.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)]
        self._showtraceback(etype, mask_error(str(value)), stb)   # the kernel sends `str(evalue)`
        return stb

    shell.set_custom_exc((Exception,), show_masked)
    shell._workbook_masks_errors = True
    return True


# --- health probes and plain displays ----------------------------------------------------------------
def _probe(url: str, ok: str) -> str:
    try:
        r = http_clients.get(url, timeout=5)
    except httpx.HTTPError as exc:
        return f"DOWN ({type(exc).__name__})"
    return ok if r.status_code == 200 else f"HTTP {r.status_code}"


def _probe_oss(book: Book) -> str:
    if book.target == "local":
        return _probe(book.oss_endpoint + "/_localcloud/health", "answers (local cloud)")
    try:    # anonymous GET of the private bucket: OSS answers 403 AccessDenied, so it is there
        with http_clients.client(timeout=5, trust_env=True) as c:   # Alibaba Cloud may sit behind a proxy
            r = c.get(book.oss_endpoint)
    except httpx.HTTPError as exc:
        return f"DOWN ({type(exc).__name__})"
    return f"answers (HTTP {r.status_code})"


def _probe_sts(endpoint: str) -> str:
    """An unsigned request: STS answers with a JSON error, which shows it is listening."""
    url = endpoint if "://" in endpoint else "https://" + endpoint
    try:
        r = http_clients.get(url + "/", timeout=5)
    except httpx.HTTPError as exc:
        return f"DOWN ({type(exc).__name__})"
    try:
        code = r.json().get("Code", "")
    except ValueError:
        code = ""
    return f"answers (HTTP {r.status_code}{' ' + code if code else ''})"
