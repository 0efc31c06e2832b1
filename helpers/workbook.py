"""What the notebooks call: connect to a target, make app users' clients, show refusals and diagrams.

    book = workbook.connect("local")        # starts (or reuses) the local stack
    alice = book.client("alice")            # a MobileClient whose exchanges the book records
    with workbook.refused("AccessDenied"):  # an expected refusal, shown with its real code
        alice.download("users/bob/x.txt", absolute=True)
    book.diagram()                          # the Mermaid sequence diagram of what just happened

Outputs say where they come from (the local cloud or Alibaba Cloud). Nothing here prints a secret:
credentials are shown masked, passwords never, and error texts (refusals, and in a kernel every
uncaught error) go through `helpers.logging.mask_error`. Its configuration is a `helpers.settings.Settings`
on either target (`book_from_settings`). The developer's own calls from this kernel (AssumeRole with
the RAM key, cleanup) live in `helpers.developer` and are drawn as the participant "Developer
(notebook kernel)", never as the app server's; the local clock's moves live in `helpers.local_clock`.
What only the local cloud can do (move its clock, call back to loopback) is behind
`book.local_only(...)`, which explains and skips on `aliyun`.
Imports `helpers.localcloud` nowhere: the local cloud is reached over HTTP only.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from helpers import developer, http_clients, local_clock, stack
from helpers.displays import show_client_credentials, show_credentials, show_json, show_result, show_table
from helpers.logging import mask_error
from helpers.refusals import NotRefused, Refusal, describe_error, error_text, refused
from helpers.sequence_diagram import display_mermaid, mermaid
from helpers.settings import Settings, explain
from helpers.trace import Recorder

# The notebooks call everything as `workbook.<name>`; refusals and displays live in their own modules.
__all__ = ["ALIYUN_ENV", "ALIYUN_ENV_HELP", "Book", "NotRefused", "Refusal", "Target", "WorkbookError",
           "book_from_settings", "connect", "describe_error", "error_text", "refused",
           "show_client_credentials", "show_credentials", "show_json", "show_result", "show_table"]

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
DEVELOPER = developer.DEVELOPER


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

    # --- the developer's own calls (helpers.developer) -------------------------------------------
    def assume_role(self, policy: str | Mapping[str, Any] | None, *, session_name: str = "workbook",
                    duration: int = 900) -> dict[str, str]:
        """AssumeRole from this kernel with the developer's RAM key (`helpers.developer.assume_role`):
        the temporary credentials, drawn as the developer's call. Raises `StsRefused` or `StsUnreachable`."""
        if not self.developer_key[0]:
            raise WorkbookError("the developer's RAM key is not configured for this target")
        return developer.assume_role(self, policy, session_name=session_name, duration=duration)

    def oss_bucket(self, creds: Mapping[str, str]) -> Any:
        """An oss2 Bucket signing with temporary credentials (`helpers.developer.oss_bucket`)."""
        return developer.oss_bucket(self, creds)

    def delete_objects(self, keys: list[str]) -> None:
        """The developer's cleanup (`helpers.developer.delete_objects`): AssumeRole with a session
        policy that allows DeleteObject on exactly these keys, then delete them."""
        developer.delete_objects(self, keys)

    # --- what only the local cloud can do --------------------------------------------------------
    def local_only(self, what: str) -> bool:
        """True on the local cloud; on Alibaba Cloud, explain why `what` is skipped and return False."""
        if self.target == "local":
            return True
        print(f"Skipped on Alibaba Cloud: {what} needs the local cloud (its movable clock or loopback "
              "callbacks), which the real service does not offer.")
        return False

    def advance_clock(self, seconds: float, *, quiet: bool = False) -> None:
        """Move the local cloud's clock forward (`helpers.local_clock`; the real service has none).
        `quiet` skips the printed line (for helpers that say what they moved in their own words)."""
        if self.target != "local":
            raise WorkbookError("only the local cloud has a movable clock")
        self._clock_offset = local_clock.move(self, {"advance": seconds})
        local_clock.wait_for_appserver(self)
        if not quiet:
            print(f"The local cloud's clock moved {seconds:+.0f} s "
                  "(a local-only call; real time did not move).")

    def reset_clock(self) -> None:
        """Put the local cloud's clock back to real time (nothing on Alibaba Cloud)."""
        if self.target == "local":
            local_clock.move(self, {"offset": 0})
            self._clock_offset = 0.0
            local_clock.wait_for_appserver(self)

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


def book_from_settings(settings: Settings, appserver_url: str) -> Book:
    """The Book of a target described by `settings` (the app server's own Settings type): endpoints,
    region, bucket, role, the developer's RAM key and the demo users; `appserver_url` is where the
    notebooks' clients reach the app server (not a Settings field: the app server needs only its
    public URL)."""
    return Book(settings.target, settings.oss_endpoint, settings.sts_endpoint, appserver_url.rstrip("/"),
                settings.bucket, settings.region, settings.role_arn,
                {name: pw.get_secret_value() for name, pw in settings.app_users.items()},
                (settings.access_key_id, settings.access_key_secret.get_secret_value()))


def _settings(build: Callable[[], Settings]) -> Settings:
    """`build()`, with any bad setting reported as a WorkbookError naming the variables (no value)."""
    try:
        return build()
    except Exception as exc:  # pydantic, pydantic-settings, the credentials file: `explain` knows each
        raise WorkbookError("bad workbook settings:\n" + "\n".join(f"  {line}" for line in explain(exc))) \
            from None


def connect(target: Target = "local", *, state_dir: str | Path | None = None) -> Book:
    """A Book on the local stack (started now, or reused if it runs) or on Alibaba Cloud (from env),
    built from `helpers.settings.Settings` either way (`book_from_settings`).
    In a notebook kernel, also masks every uncaught error from here on (`mask_uncaught_errors`)."""
    mask_uncaught_errors()
    if target == "local":
        info = stack.up(Path(state_dir) if state_dir else None)
        if info.appserver_url is None:
            raise WorkbookError("the stack has no app server; run `python -m helpers.stack up`")
        settings = _settings(lambda: Settings.from_credentials_file(
            info.credentials_file, oss_endpoint=info.oss_endpoint, sts_endpoint=info.sts_endpoint,
            bucket=info.bucket, region=info.region, role_arn=info.role_arn))
        book = book_from_settings(settings, info.appserver_url)
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
        # The kernel signs no app-server session: a per-connection secret satisfies the aliyun
        # target's requirement without asking the notebook reader for the app server's.
        given: dict[str, Any] = {"target": "aliyun", "session_secret": SecretStr(secrets.token_urlsafe(32))}
        settings = _settings(lambda: Settings(**given))   # the rest from the environment
        return book_from_settings(settings, os.environ["WORKBOOK_APPSERVER_URL"])
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
