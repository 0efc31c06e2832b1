"""The token console (notebook 08): an ipywidgets form to issue STS tokens, sign URLs, upload a file
and list your files, showing what came back (masked) and the sequence diagram of the last exchange.

    console = TokenConsole(book)      # display it: `console` as a cell's last expression
    console.user.value = "bob"; console.scope.value = "download"
    console.issue_button.click()      # runs the handler synchronously: headless-friendly
    console.report()                  # a stable printout of the last result (for committed outputs)

Two ways to get a token: "app server" (the default; what the app does: GET /api/sts?scope=...
with the user's login, the app server decides the policy and the 15-minute duration) and
"custom" (the developer's view: `book.assume_role` with a session policy built from the chosen
actions and duration, to see what each choice allows).

Displayed, the console also carries a static `text/html` and `text/plain` snapshot of what it shows (who,
where the token comes from, the token issued, what it can do), so a page without a kernel or widget
state (the HTML export, GitHub) shows a table instead of `TokenConsole(children=(HTML(…` (rendered by
`helpers.console_snapshot`).

The expiry countdown is a Label updated by a background timer thread (stopped by `close()`). It counts
on the cloud's clock (`book.cloud_now()`: the local cloud's clock may be moved), and once the token has
been seen expired (the countdown reached zero, or OSS answered SecurityTokenExpired) it says "expired"
until a new token is issued: moving the clock back does not revive a token in the story. The
diagram is Markdown with a ```mermaid block placed in an Output widget's `outputs` (JupyterLab
renders it as a picture with its bundled Mermaid, no network). No secret is ever put in a widget:
credentials are shown masked. Imports nothing from `helpers.localcloud` or `helpers.appserver`.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import oss2

from helpers.client.results import call_oss2
from helpers.console_snapshot import Result, report_lines, snapshot_bundle, snapshot_rows
from helpers.logging import mask_key_id, mask_secret, mask_url
from helpers.protocol.scopes import folder_policy, session_policy, user_prefix
from helpers.refusals import describe_error, error_text
from helpers.sequence_diagram import mermaid, to_markdown

if TYPE_CHECKING:
    from helpers.workbook import Book

ACTIONS = ("oss:PutObject", "oss:GetObject", "oss:ListObjects", "oss:DeleteObject")
MODES = ("app server", "custom")


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class TokenConsole(w.VBox):
    """The console. Every control is an attribute, so code (and tests) can drive it."""

    def __init__(self, book: Book, *, tick: float = 1.0) -> None:
        self.book = book
        users = sorted(book.users)
        style = {"description_width": "90px"}
        self.user = w.Dropdown(
            options=users, value="alice" if "alice" in users else users[0], description="User", style=style
        )
        self.mode = w.ToggleButtons(options=MODES, value="app server", description="Token from", style=style)
        self.scope = w.Dropdown(
            options=("upload", "download"), value="upload", description="Scope", style=style
        )
        self.duration = w.IntSlider(
            value=900, min=900, max=3600, step=300, description="Duration (s)", style=style, disabled=True
        )
        self.actions = w.SelectMultiple(
            options=ACTIONS,
            value=("oss:PutObject",),
            description="Actions",
            rows=4,
            style=style,
            disabled=True,
        )
        self.issue_button = w.Button(description="Issue token", button_style="primary", icon="key")
        self.key = w.Text(value="hello.txt", description="Key", style=style)
        self.method = w.Dropdown(options=("GET", "PUT"), value="GET", description="Method", style=style)
        self.expires = w.IntText(value=300, description="Expires (s)", style=style)
        self.sign_button = w.Button(description="Sign URL", icon="link")
        self.file_upload = w.FileUpload(description="Choose file", multiple=False)
        self.upload_button = w.Button(description="Upload", icon="upload")
        self.list_button = w.Button(description="List my files", icon="list")
        self.status = w.Label(value="No token yet.")
        self.credentials = w.HTML(value="<i>no credentials</i>")
        self.countdown = w.Label(value="")
        self.policy = w.HTML(value="")
        self.output = w.HTML(value="")
        self.diagram = w.Output(layout=w.Layout(border="1px solid #ddd", padding="4px"))
        self.last = Result()
        self._expires_at: float | None = None  # on the cloud's clock
        self._expired_seen = ""  # why the current token is known expired ("" while it is not)
        self._creds: dict[str, str] | None = None  # custom mode only; never displayed unmasked
        self._creds_user = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.mode.observe(self._mode_changed, names="value")
        self.issue_button.on_click(lambda _: self.issue())
        self.sign_button.on_click(lambda _: self.sign())
        self.upload_button.on_click(lambda _: self.upload())
        self.list_button.on_click(lambda _: self.list_files())
        super().__init__(
            [
                w.HTML("<b>Token console</b> — the app user's view, on " + html.escape(book.where)),
                w.HBox(
                    [
                        w.VBox(
                            [self.user, self.mode, self.scope, self.duration, self.actions, self.issue_button]
                        ),
                        w.VBox(
                            [
                                w.HTML("<b>Credentials</b> (masked)"),
                                self.credentials,
                                self.countdown,
                                w.HTML("<b>Session policy</b>"),
                                self.policy,
                            ]
                        ),
                    ]
                ),
                w.HBox([self.key, self.method, self.expires, self.sign_button]),
                w.HBox([self.file_upload, self.upload_button, self.list_button]),
                self.status,
                self.output,
                w.HTML("<b>Sequence diagram of the last exchange</b>"),
                self.diagram,
            ]
        )
        self._timer = threading.Thread(
            target=self._tick, args=(tick,), name="token-console-countdown", daemon=True
        )
        self._timer.start()

    # --------------------------------------------------------------------------------- actions

    def issue(self) -> Result:
        user, mode = self.user.value, self.mode.value
        if mode == "app server":
            return self._run("issue token", lambda r: self._issue_app(r, user))
        return self._run("issue token", lambda r: self._issue_custom(r, user))

    def sign(self) -> Result:
        def act(r: Result) -> None:
            client = self.book.client(self.user.value)
            signed = client.api.signed_url(self.method.value, self.key.value, expires=int(self.expires.value))
            base, _, query = mask_url(signed.url).partition("?")
            params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            r.lines += [
                f"signed {signed.method} for {signed.key} (expires {signed.expires_at})",
                f"url: {base}?… ({len(params)} query parameters; signature and token masked)",
                f"  x-oss-expires={params.get('x-oss-expires', params.get('Expires', '?'))}, "
                f"x-oss-signature={params.get('x-oss-signature', params.get('Signature', '?'))}",
            ]

        return self._run("sign URL", act)

    def upload(self) -> Result:
        def act(r: Result) -> None:
            files = self.file_upload.value
            if not files:
                raise ValueError("choose a file first")
            item = files[0]
            name, data = str(item["name"]), bytes(item["content"])
            if self.mode.value == "app server" or self._creds is None:
                up = self.book.client(self.user.value).upload(
                    name, data, content_type=item.get("type") or None
                )
                key, status, crc = up.key, up.status, up.crc64
            else:
                key = user_prefix(self._creds_user) + name
                res = call_oss2(lambda: self._bucket().put_object(key, data))
                status, crc = res.status, res.crc
            r.lines.append(f"uploaded {key}: HTTP {status}, {len(data)} bytes, CRC-64 {crc}")

        return self._run("upload", act)

    def list_files(self) -> Result:
        def act(r: Result) -> None:
            if self.mode.value == "custom" and self._creds is not None:
                prefix = user_prefix(self._creds_user)
                listing = call_oss2(lambda: self._bucket().list_objects(prefix=prefix, max_keys=100))
                keys = sorted(o.key for o in listing.object_list)
                r.lines.append(f"ListObjects {prefix}: {len(keys)} object(s)")
            else:
                records = self.book.client(self.user.value).list_uploads()
                keys = sorted(str(u.get("key", u.get("object", ""))) for u in records)
                r.lines.append(f"the app server's record of your uploads (/api/uploads): {len(keys)}")
            r.lines += [f"  {k}" for k in keys]

        return self._run("list files", act)

    def choose_file(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """What picking a file in the browser does to `file_upload.value` (for driving from code)."""
        self.file_upload.value = (
            {
                "name": name,
                "type": content_type,
                "size": len(data),
                "content": memoryview(data),
                "last_modified": datetime.now(UTC),
            },
        )

    # ------------------------------------------------------------------------------- internals

    def _issue_app(self, r: Result, user: str) -> None:
        client = self.book.client(user)
        scope = self.scope.value
        provider = client.providers[scope]
        provider.invalidate()  # a fresh GET /api/sts, as a newly started app would do
        creds = provider.get()
        target = client.target(scope)
        masked = creds.masked()
        r.mode = f"app server, scope {scope}"
        r.lines += [
            f"{name:<16} {masked[name]}"
            for name in ("AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration")
        ]
        r.lines.append(f"{'Prefix':<16} {target.prefix}")
        r.policy = session_policy(bucket=target.bucket, username=user, scope=scope)
        self._creds, self._creds_user = None, user
        with self._lock:
            self._expires_at, self._expired_seen = creds.expiration, ""

    def _issue_custom(self, r: Result, user: str) -> None:
        actions = tuple(self.actions.value)
        if not actions:
            raise ValueError("choose at least one action")
        policy = folder_policy(bucket=self.book.bucket, username=user, actions=actions)
        creds = self.book.assume_role(
            policy, session_name=f"{user}-console", duration=int(self.duration.value)
        )
        r.mode = f"custom, {int(self.duration.value)} s, {', '.join(actions)}"
        r.lines += [
            f"{'AccessKeyId':<16} {mask_key_id(creds['AccessKeyId'])}",
            f"{'AccessKeySecret':<16} {mask_secret(creds['AccessKeySecret'])}",
            f"{'SecurityToken':<16} {mask_secret(creds['SecurityToken'])}",
            f"{'Expiration':<16} {creds['Expiration']}",
            f"{'Prefix':<16} {user_prefix(user)}",
        ]
        r.policy = policy
        self._creds, self._creds_user = dict(creds), user
        with self._lock:
            self._expires_at, self._expired_seen = _epoch(creds["Expiration"]), ""

    def _mode_changed(self, change: dict[str, Any]) -> None:
        custom = change["new"] == "custom"
        self.duration.disabled = self.actions.disabled = not custom
        self.scope.disabled = custom

    def custom_bucket(self) -> oss2.Bucket:
        """The bucket with the last custom token's credentials (what the console's own buttons use);
        raises ValueError when the last token came from the app server."""
        if self._creds is None:
            raise ValueError("no custom token: set mode 'custom' and click “Issue token”")
        return self._bucket()

    def _bucket(self) -> oss2.Bucket:
        c = self._creds or {}
        auth = oss2.StsAuth(c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"], auth_version="v4")
        session = oss2.Session()
        self.book.recorder.install_requests(session.session, "OSS")
        return oss2.Bucket(
            auth, self.book.oss_endpoint, self.book.bucket, region=self.book.region, session=session
        )

    def _run(self, action: str, act: Callable[[Result], None]) -> Result:
        r = Result(action=action, user=self.user.value, mode=self.mode.value)
        started = time.time() - 0.001
        try:
            act(r)
        except Exception as exc:  # a refusal is a result to show, not a crash of the form
            got = describe_error(exc)
            r.ok = False
            r.lines.extend(got.lines() if got.code else [f"failed: {error_text(exc)}"])
            if got.code == "SecurityTokenExpired":
                with self._lock:
                    self._expired_seen = "OSS answered SecurityTokenExpired"
        exchanges = [e for e in self.book.recorder.exchanges() if e.t >= started]
        r.diagram = mermaid(exchanges, title=f"{action} ({r.user})") if exchanges else ""
        self.last = r
        self._show(r)
        return r

    def _show(self, r: Result) -> None:
        text = "<br>".join(html.escape(line) for line in r.lines)
        self.status.value = f"{r.action}: {'done' if r.ok else 'refused'} ({r.user}, {r.mode})"
        if r.action == "issue token":
            self.credentials.value = f"<pre style='margin:0'>{text}</pre>"
            self.output.value = ""  # results of the previous token's actions no longer apply
            self.policy.value = (
                ("<pre style='margin:0'>" + html.escape(json.dumps(r.policy, indent=2)) + "</pre>")
                if r.policy
                else ""
            )
        else:
            self.output.value = f"<pre style='margin:0'>{text}</pre>"
        if r.diagram:
            self.diagram.outputs = (
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/markdown": to_markdown(r.diagram), "text/plain": r.diagram},
                },
            )
        self._update_countdown()

    def token_state(self) -> str:
        """"none", "valid" or "expired" (the countdown's state, without its changing digits)."""
        with self._lock:
            if self._expires_at is None:
                return "none"
            if not self._expired_seen and self._expires_at - self.book.cloud_now() <= 0:
                self._expired_seen = "its Expiration passed on the cloud's clock"
            return "expired" if self._expired_seen else "valid"

    def _update_countdown(self) -> None:
        state = self.token_state()
        if state == "none":
            return
        with self._lock:
            left, why = int((self._expires_at or 0) - self.book.cloud_now()), self._expired_seen
        value = (f"expired ({why}): issue a new token" if state == "expired"
                 else f"expires in {left // 60:d}:{left % 60:02d} (on the cloud's clock)")
        if self.countdown.value != value:
            self.countdown.value = value

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self._update_countdown()
            except Exception:  # the kernel may be shutting down under the thread: stop quietly
                return

    # ------------------------------------------------------------------------------------ output

    def snapshot_rows(self) -> list[tuple[str, str]]:
        """What the console shows now, as (field, value) rows: masked, never a secret."""
        source = (f"the app server (GET /api/sts?scope={self.scope.value})" if self.mode.value == "app server"
                  else f"custom AssumeRole ({int(self.duration.value)} s, {', '.join(self.actions.value)})")
        return snapshot_rows(self.last, where=self.book.where, user=str(self.user.value), source=source,
                             token_state=self.token_state(), countdown=self.countdown.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The widget view (live in JupyterLab) plus a static snapshot for pages without a kernel."""
        data = super()._repr_mimebundle_(**kwargs)
        if not data:
            return data  # closed: nothing to show
        data.update(snapshot_bundle(self.snapshot_rows()))
        return data

    def report(self) -> None:
        """Print the last result: stable text (masked values, key names, codes), no timings."""
        print("\n".join(report_lines(self.last, self.token_state())))  # noqa: T201 - notebook output

    def close(self) -> None:
        self._stop.set()
        timer = getattr(self, "_timer", None)
        if timer is not None and timer is not threading.current_thread():
            timer.join(timeout=5)
        super().close()
