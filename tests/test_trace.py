"""helpers/trace.py: masking at record time, ordering, Mermaid text; and one recorded flow (login,
STS upload, form upload with callback) through the real app server and local cloud."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

try:
    from appserver.conftest import RunningAppServer, appserver, users  # noqa: F401  (fixtures)
    from client.conftest import ClientClock, client_clock, mobile  # noqa: F401
except ImportError:  # a tests/__init__.py makes the packages `tests.*`
    from tests.appserver.conftest import RunningAppServer, appserver, users  # noqa: F401
    from tests.client.conftest import ClientClock, client_clock, mobile  # noqa: F401

from helpers.client.mobile import MobileClient
from helpers.sequence_diagram import escape, mermaid, to_markdown
from helpers.trace import Exchange, Recorder, mask_body, oss_error_code

SIG = "0123456789abcdef" * 4
TOKEN = "CAIS" + "t0k3n" * 20
SECRET = "S3cr3tAccessKeySecretValue0123456789"


def _ex(t: float, source: str = "Client", target: str = "OSS", **kw: Any) -> Exchange:
    kw.setdefault("method", "GET")
    kw.setdefault("path", "/k")
    kw.setdefault("status", 200)
    return Exchange.create(t=t, source=source, target=target, **kw)


# ------------------------------------------------------------------------------------- masking

def test_exchange_secret_query_in_path_is_masked() -> None:
    ex = _ex(1.0, path=f"http://h/b/k?OSSAccessKeyId=LTAI1&Expires=9&Signature={SIG}&security-token={TOKEN}"
                      f"&x-oss-signature={SIG}&password=hunter2hunter2")
    for secret in (SIG, TOKEN, "hunter2hunter2"):
        assert secret not in ex.path
    assert ex.path.startswith("/b/k?OSSAccessKeyId=LTAI1&Expires=9&Signature=0123…(64 chars)")


def test_exchange_secret_headers_are_masked_key_id_kept() -> None:
    ex = _ex(1.0, headers={"Authorization": f"OSS LTAIkeyid:{SIG}", "x-oss-security-token": TOKEN,
                           "Content-Type": "text/plain"})
    shown = dict(ex.headers)
    assert shown["Authorization"] == "OSS LTAIkeyid:0123…(64 chars)"
    assert TOKEN not in shown["x-oss-security-token"] and shown["Content-Type"] == "text/plain"
    credential = "Credential=STS.x/20250101/r/oss/aliyun_v4_request"
    v4 = _ex(1.0, headers={"authorization": f"OSS4-HMAC-SHA256 {credential},Signature={SIG}"})
    assert SIG not in dict(v4.headers)["authorization"]
    assert "Credential=STS.x/" in dict(v4.headers)["authorization"]


def test_exchange_json_bodies_mask_sts_secrets_and_password() -> None:
    reply = json.dumps({"StatusCode": 200, "AccessKeyId": "STS.abcdefghijkl", "AccessKeySecret": SECRET,
                        "SecurityToken": TOKEN, "Expiration": "2030-01-01T00:00:00Z"})
    ex = _ex(1.0, body=b'{"username": "alice", "password": "hunter2hunter2"}', body_type="application/json",
             reply=reply, reply_type="application/json; charset=utf-8")
    for secret in ("hunter2hunter2", SECRET, TOKEN, "STS.abcdefghijkl"):
        assert secret not in ex.body + ex.reply
    assert json.loads(ex.reply)["Expiration"] == "2030-01-01T00:00:00Z"
    assert json.loads(ex.body)["username"] == "alice"


def test_mask_body_form_urlencoded_masks_fields() -> None:
    policy = "eyJleHBpcmF0aW9u"
    form = f"key=a.txt&policy={policy}&signature={SIG}&x-oss-security-token={TOKEN}".encode()
    text = mask_body(form, "application/x-www-form-urlencoded")
    assert text.startswith("key=a.txt&") and SIG not in text and TOKEN not in text and policy not in text


def test_mask_body_multipart_and_xml_show_size_only() -> None:
    part = 'Content-Disposition: form-data; name="x-oss-security-token"'
    form = f"--b\r\n{part}\r\n\r\n{TOKEN}\r\n--b--".encode()
    assert mask_body(form, "multipart/form-data; boundary=b") == f"<{len(form)} bytes multipart/form-data>"
    xml = f"<Error><Code>AccessDenied</Code><SecurityToken>{TOKEN}</SecurityToken></Error>".encode()
    assert TOKEN not in mask_body(xml, "application/xml")


def test_exchange_note_free_text_is_masked() -> None:
    ex = _ex(1.0, status=403, note=f"AccessDenied security-token={TOKEN} Authorization: OSS id:{SIG}")
    assert TOKEN not in ex.note and SIG not in ex.note and ex.note.startswith("AccessDenied")


def test_exchange_unknown_participant_raises() -> None:
    with pytest.raises(ValueError, match="participants"):
        _ex(1.0, target="Browser")


def test_exchange_from_json_remasks_raw_and_keeps_masked_values() -> None:
    masked = _ex(1.0, headers={"Authorization": f"Bearer {TOKEN}"}).to_json()
    again = Exchange.from_json(masked)
    assert again.headers == tuple(tuple(p) for p in masked["headers"])    # not masked twice
    raw = {**masked, "headers": [["x-oss-security-token", TOKEN]], "path": f"/k?Signature={SIG}",
           "note": f"password={SECRET}"}
    got = Exchange.from_json(raw)
    assert TOKEN not in repr(got) and SIG not in repr(got) and SECRET not in repr(got)


# ------------------------------------------------------------------------------ error codes

def test_oss_error_code_from_xml_json_and_head_header() -> None:
    xml = b"<?xml version='1.0'?><Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error>"
    assert oss_error_code(403, xml) == "SignatureDoesNotMatch"
    assert oss_error_code(404, b'{"Code": "EntityNotExist.Role", "Message": "m"}') == "EntityNotExist.Role"
    head = base64.b64encode(b"<Error><Code>NoSuchKey</Code></Error>").decode()
    assert oss_error_code(404, b"", {"x-oss-err": head}) == "NoSuchKey"
    assert oss_error_code(200, xml) == "" and oss_error_code(500, b"not xml") == ""


# ------------------------------------------------------------------------------- ordering

def test_recorder_exchanges_ordered_by_request_time() -> None:
    rec = Recorder()
    for t in (3.0, 1.0, 2.0):
        rec.add(_ex(t, path=f"/{t}"))
    assert [e.t for e in rec.exchanges()] == [1.0, 2.0, 3.0]


def test_recorder_remote_client_duplicates_dropped_other_sources_merged() -> None:
    rec = Recorder()
    rec.httpx_hooks("AppServer")          # this process now records the Client side itself
    rec.add(_ex(1.0, target="AppServer", method="GET", path="/api/sts", end=4.0))
    remote = [_ex(1.1, target="AppServer", path="/api/sts", end=3.9).to_json(),
              _ex(2.0, "AppServer", "STS", method="POST", path="/?Action=AssumeRole", end=3.0).to_json()]
    calls: list[int] = []

    def fetch(since: int) -> tuple[int, list[dict[str, Any]]]:
        calls.append(since)
        return 7, remote if since == 0 else []

    rec.add_source(fetch)
    got = rec.exchanges()
    assert [(e.source, e.target) for e in got] == [("Client", "AppServer"), ("AppServer", "STS")]
    rec.exchanges()
    assert calls == [0, 7]               # the cursor advances; nothing is fetched twice
    assert len(rec.exchanges()) == 2


def test_recorder_failing_source_keeps_local_exchanges(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder()
    rec.add(_ex(1.0))

    def broken(since: int) -> tuple[int, list[dict[str, Any]]]:
        raise ConnectionError("down")

    rec.add_source(broken)
    assert len(rec.exchanges()) == 1
    assert "trace is unavailable" in caplog.text


# --------------------------------------------------------------------------------- mermaid

def test_mermaid_nests_inner_exchange_inside_outer_answer() -> None:
    outer = _ex(1.0, target="AppServer", method="GET", path="/api/sts?scope=upload", end=4.0)
    inner = _ex(2.0, "AppServer", "STS", method="POST", path="/?Action=AssumeRole", end=3.0)
    lines = mermaid([inner, outer]).splitlines()
    assert lines[0] == "sequenceDiagram"
    assert [ln.strip() for ln in lines[1:5]] == [
        "participant Client as Client", "participant AppServer as App server", "participant STS as STS",
        "participant OSS as OSS"]
    assert [ln.strip() for ln in lines[5:]] == [
        "Client->>AppServer: GET /api/sts?scope=upload", "AppServer->>STS: POST /?Action=AssumeRole",
        "STS-->>AppServer: 200", "AppServer-->>Client: 200"]


def test_mermaid_refusal_answer_has_note_with_status_and_code() -> None:
    text = mermaid([_ex(1.0, method="PUT", path="/workbook/users/bob/x", status=403, note="AccessDenied")])
    assert "Client->>OSS: PUT /workbook/users/bob/x\n    OSS-->>Client: 403\n" in text
    assert "    Note over Client,OSS: 403 AccessDenied\n" in text


def test_mermaid_request_precedes_its_answer_at_same_instant() -> None:
    text = mermaid([_ex(5.0, end=5.0)])
    assert text.index("Client->>OSS") < text.index("OSS-->>Client")


def test_mermaid_escapes_separators_entities_and_newlines() -> None:
    assert escape('a;b #c <d> "e"\nf') == "a#59;b #35;c #lt;d#gt; #quot;e#quot; f"
    text = mermaid([_ex(1.0, path="/k;x<z>", note="line1\nline2; #5 <b>", status=400)])
    body = text.split("participant OSS as OSS\n", 1)[1]
    assert ";" not in body.replace("#59;", "").replace("#35;", "").replace("#lt;", "").replace("#gt;", "")
    assert len(body.strip().splitlines()) == 3       # request, answer, note: no line broken by the text
    assert "#35;" in body and "#lt;" in body


def test_to_markdown_wraps_in_mermaid_fence() -> None:
    md = to_markdown(mermaid([_ex(1.0)]))
    assert md.startswith("```mermaid\nsequenceDiagram\n") and md.endswith("\n```\n")


# ----------------------------------------------------------------------------- integration

def _secrets_of(creds: dict[str, Any]) -> list[str]:
    values = [creds[role][k] for role in ("admin", "appserver")
              for k in ("access_key_id", "access_key_secret")]
    return values + [u["password"] for u in creds["app_users"]]


def test_trace_sts_upload_and_callback_diagram_in_order_without_secrets(
        mobile: Callable[..., MobileClient], unique: Callable[[str], str], creds: dict[str, Any]) -> None:
    rec = Recorder()
    alice = mobile("alice", recorder=rec)
    put_key = alice.upload(unique("trace") + ".txt", b"flow one").key
    form = alice.upload_form(unique("trace-cb") + ".txt", b"flow three", "text/plain", callback=True)
    assert form.status == 200, form.callback_reply

    text = rec.mermaid()
    steps = ["Client->>AppServer: POST /api/login", "AppServer->>STS: POST /?Action=AssumeRole",
             "Client->>OSS: PUT /workbook/", "OSS->>AppServer: POST /api/callback"]
    positions = [text.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), text
    assert f"AppServer-->>OSS: 200 verified, recorded {form.key}" in text
    # The callback happens inside the form upload, before OSS answers the client.
    assert text.index("Client->>OSS: POST /workbook") < text.index("OSS->>AppServer") \
        < text.index("OSS-->>Client: 200", text.index("OSS->>AppServer"))
    assert put_key.split("/")[-1] in text

    live = alice.providers["upload"].get()
    everything = text + repr(rec.exchanges()) + json.dumps([e.to_json() for e in rec.exchanges()])
    for secret in [*_secrets_of(creds), live.access_key_secret, live.security_token]:
        assert secret not in everything


def test_trace_api_shows_each_user_only_their_own_exchanges(
        mobile: Callable[..., MobileClient], unique: Callable[[str], str]) -> None:
    alice = mobile("alice", recorder=Recorder())
    alice.upload(unique("mine"), b"a")
    bob_rec = Recorder()
    bob = mobile("bob", recorder=bob_rec)
    cursor, alices = alice.api.trace(0)
    assert any("RoleSessionName=alice-upload" in e["path"] for e in alices)
    assert not any("bob" in json.dumps(e) for e in alices)
    _, bobs = bob.api.trace(0)
    assert bobs and not any("alice" in json.dumps(e) for e in bobs)
    assert alice.api.trace(cursor) == (cursor, [])


def test_trace_display_mermaid_returns_markdown_object(tmp_path: Path) -> None:
    pytest.importorskip("IPython")
    from helpers.sequence_diagram import display_mermaid

    shown = display_mermaid(mermaid([_ex(1.0)]))
    assert shown.data.startswith("```mermaid\n")


# ------------------------------------------------------- the developer's calls, dedup, no import cycle

def test_developer_calls_get_their_own_participant_only_when_present() -> None:
    plain = mermaid([_ex(1.0)])
    assert "Developer" not in plain
    text = mermaid([_ex(1.0, source="Developer", target="STS", method="POST", path="/?Action=AssumeRole")])
    assert "participant Developer as Developer (notebook kernel)" in text
    assert "Developer->>STS: POST /?Action=AssumeRole" in text
    assert "AppServer->>STS" not in text


def test_recorder_keeps_an_exchange_pulled_twice_once_and_hides_earlier_ones() -> None:
    rec = Recorder()
    old = _ex(1.0, source="AppServer", target="STS", method="POST").to_json()
    new = _ex(5.0, source="AppServer", target="STS", method="POST").to_json()
    rec.add_source(lambda since: (2, [old, new]))
    rec.add_source(lambda since: (2, [old, new]))      # a second client of the same user
    rec.start_at(3.0)
    assert [e.t for e in rec.exchanges()] == [5.0]
    assert [e.t for e in rec.earlier(sync=False)] == [1.0]


def test_diagram_modules_import_each_other_in_one_direction_only() -> None:
    import ast

    root = Path(__file__).resolve().parents[1] / "helpers"

    def imported(name: str) -> set[str]:
        tree = ast.parse((root / f"{name}.py").read_text(encoding="utf-8"))
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}

    assert "helpers.trace" not in imported("sequence_diagram")
    assert not {"helpers.trace", "helpers.sequence_diagram"} & imported("exchange")
