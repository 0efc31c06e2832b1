"""POST /api/post-policy: browser forms posted with `requests` multipart straight to OSS, with and
without the upload callback (helpers/appserver/services/signing.py, services/callbacks.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import oss2
import pytest
import requests

from tests.appserver.conftest import RunningAppServer


def _policy(appserver: RunningAppServer, token: str, **body: Any) -> dict[str, Any]:
    r = appserver.post("/api/post-policy", token, json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _post(
    form: dict[str, Any],
    content: bytes,
    *,
    filename: str = "f.txt",
    ctype: str = "text/plain",
    **override: str,
) -> requests.Response:
    fields = {**form["fields"], **override}
    return requests.post(form["url"], data=fields, files={"file": (filename, content, ctype)}, timeout=20)


@pytest.mark.parametrize("version", ["v4", "v1"])
def test_post_policy_form_uploads_into_users_folder(
    appserver: RunningAppServer, alice: str, workbook_bucket: oss2.Bucket, version: str
) -> None:
    form = _policy(
        appserver, alice, key=f"forms/{version}.txt", content_type="text/plain", signature_version=version
    )
    assert form["key"] == f"users/alice/forms/{version}.txt"
    r = _post(form, b"from a browser")
    assert r.status_code == 200, r.text
    assert workbook_bucket.get_object(form["key"]).read() == b"from a browser"
    assert appserver.get("/api/uploads", alice).json() == []  # no callback asked, nothing recorded


def test_post_policy_fields_pin_bucket_key_size_and_type(appserver: RunningAppServer, alice: str) -> None:
    form = _policy(appserver, alice, key="a.png", content_type="image/png", max_size=1024)
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    conds = policy["conditions"]
    assert {"bucket": "workbook"} in conds
    assert ["eq", "$key", "users/alice/a.png"] in conds
    assert ["content-length-range", 0, 1024] in conds
    assert ["eq", "$Content-Type", "image/png"] in conds
    assert {"x-oss-signature-version": "OSS4-HMAC-SHA256"} in conds
    assert policy["expiration"][:19] <= form["expires_at"][:19]


def test_post_policy_without_key_allows_only_users_prefix(
    appserver: RunningAppServer, alice: str, workbook_bucket: oss2.Bucket
) -> None:
    form = _policy(appserver, alice)
    assert form["fields"]["key"] == "users/alice/"
    assert _post(form, b"ok", key="users/alice/picked.txt").status_code == 200
    r = _post(form, b"no", key="users/bob/picked.txt")
    assert r.status_code == 403
    assert "<Code>AccessDenied</Code>" in r.text


def test_post_policy_changed_key_or_oversize_is_refused(appserver: RunningAppServer, alice: str) -> None:
    form = _policy(appserver, alice, key="exact.txt", max_size=10)
    assert _post(form, b"x", key="users/alice/other.txt").status_code == 403
    r = _post(form, b"x" * 11)
    assert r.status_code == 400
    assert "EntityTooLarge" in r.text


def test_post_policy_with_callback_records_upload(appserver: RunningAppServer, alice: str, bob: str) -> None:
    form = _policy(appserver, alice, key="cb/photo.jpg", content_type="image/jpeg", callback=True)
    assert form["fields"]["x:user"] == "alice"
    r = _post(form, b"\xff\xd8jpeg", filename="photo.jpg", ctype="image/jpeg")
    assert r.status_code == 200, r.text
    relayed = r.json()  # the app server's callback answer, relayed by OSS
    assert relayed["ok"] is True
    assert relayed["key"] == "users/alice/cb/photo.jpg"
    assert relayed["size"] == 6
    mine = appserver.get("/api/uploads", alice).json()
    assert [(u["key"], u["size"], u["mime_type"]) for u in mine] == [
        ("users/alice/cb/photo.jpg", 6, "image/jpeg")
    ]
    assert appserver.get("/api/uploads", bob).json() == []


def test_post_policy_callback_x_user_cannot_be_changed(appserver: RunningAppServer, alice: str) -> None:
    form = _policy(appserver, alice, key="cb/x.txt", callback=True)
    r = _post(form, b"x", **{"x:user": "bob"})
    assert r.status_code == 403
    assert appserver.get("/api/uploads", alice).json() == []


def test_post_policy_callback_without_public_url_returns_400(appserver: RunningAppServer, alice: str) -> None:
    appserver.server.config.app.state.settings = appserver.settings.model_copy(
        update={"appserver_public_url": ""}
    )
    r = appserver.post("/api/post-policy", alice, json={"key": "x", "callback": True})
    assert r.status_code == 400
    assert "WORKBOOK_APPSERVER_PUBLIC_URL" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"key": "../x"},
        {"key": "/x"},
        {"max_size": 0},
        {"max_size": 10**12},
        {"callback": "maybe"},
        {"key": "x" * 2000},
    ],
)
def test_post_policy_invalid_request_returns_4xx(
    appserver: RunningAppServer, alice: str, body: dict[str, Any]
) -> None:
    r = appserver.post("/api/post-policy", alice, json=body)
    assert r.status_code in (400, 422), r.text
