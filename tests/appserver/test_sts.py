"""GET /api/sts: scoped credentials that work with oss2 only inside users/<user>/, and the cache
(helpers/appserver/routes/sts.py, services/sts.py)."""

from __future__ import annotations

from typing import Any

import oss2
import pytest

from helpers.appserver.services.sts import session_policy
from helpers.localcloud.server import LocalCloudServer
from tests.appserver.conftest import RunningAppServer, sts_bucket


def _sts(appserver: RunningAppServer, token: str, scope: str) -> dict[str, Any]:
    r = appserver.get("/api/sts", token, params={"scope": scope})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_sts_without_token_returns_401(appserver: RunningAppServer) -> None:
    r = appserver.get("/api/sts", params={"scope": "upload"})
    assert r.status_code == 401
    assert r.json() == {"detail": "missing bearer token"}


def test_sts_bad_scope_returns_422(appserver: RunningAppServer, alice: str) -> None:
    r = appserver.get("/api/sts", alice, params={"scope": "admin"})
    assert r.status_code == 422


def test_sts_reply_follows_mobile_sdk_contract(
    appserver: RunningAppServer, alice: str, cloud: LocalCloudServer
) -> None:
    doc = _sts(appserver, alice, "upload")
    assert doc["StatusCode"] == 200
    assert doc["AccessKeyId"].startswith("STS.")
    assert doc["AccessKeySecret"] and doc["SecurityToken"]
    assert doc["Expiration"].endswith("Z") and len(doc["Expiration"]) == 20
    assert (doc["Bucket"], doc["Region"], doc["Endpoint"], doc["Prefix"]) == (
        "workbook",
        "cn-hangzhou",
        cloud.oss_endpoint,
        "users/alice/",
    )


def test_sts_upload_scope_puts_only_inside_own_prefix(
    appserver: RunningAppServer, alice: str, cloud: LocalCloudServer, workbook_bucket: oss2.Bucket
) -> None:
    bucket = sts_bucket(cloud, _sts(appserver, alice, "upload"))
    bucket.put_object("users/alice/up.txt", b"mine")
    assert workbook_bucket.get_object("users/alice/up.txt").read() == b"mine"
    for key in ("users/bob/up.txt", "elsewhere.txt", "users/alice"):
        with pytest.raises(oss2.exceptions.AccessDenied):
            bucket.put_object(key, b"no")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.get_object("users/alice/up.txt")  # upload scope cannot read
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.delete_object("users/alice/up.txt")


def test_sts_download_scope_gets_but_cannot_put(
    appserver: RunningAppServer, alice: str, cloud: LocalCloudServer, workbook_bucket: oss2.Bucket
) -> None:
    workbook_bucket.put_object("users/alice/down.txt", b"read me")
    workbook_bucket.put_object("users/bob/secret.txt", b"bob's")
    bucket = sts_bucket(cloud, _sts(appserver, alice, "download"))
    assert bucket.get_object("users/alice/down.txt").read() == b"read me"
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.put_object("users/alice/down.txt", b"overwrite")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.get_object("users/bob/secret.txt")


def test_sts_upload_scope_completes_and_aborts_multipart(
    appserver: RunningAppServer, alice: str, cloud: LocalCloudServer, workbook_bucket: oss2.Bucket
) -> None:
    bucket = sts_bucket(cloud, _sts(appserver, alice, "upload"))
    key = "users/alice/multi.bin"
    part1, part2 = b"a" * (100 * 1024), b"b" * 1000
    upload_id = bucket.init_multipart_upload(key).upload_id
    parts = [
        oss2.models.PartInfo(1, bucket.upload_part(key, upload_id, 1, part1).etag),
        oss2.models.PartInfo(2, bucket.upload_part(key, upload_id, 2, part2).etag),
    ]
    assert [p.part_number for p in bucket.list_parts(key, upload_id).parts] == [1, 2]
    bucket.complete_multipart_upload(key, upload_id, parts)
    assert workbook_bucket.get_object(key).read() == part1 + part2
    other = bucket.init_multipart_upload("users/alice/aborted.bin").upload_id
    bucket.abort_multipart_upload("users/alice/aborted.bin", other)
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.init_multipart_upload("users/bob/multi.bin")


def test_sts_session_policy_names_only_the_users_prefix() -> None:
    up = session_policy(bucket="b", username="alice", scope="upload")
    down = session_policy(bucket="b", username="alice", scope="download")
    assert (
        up["Statement"][0]["Resource"] == down["Statement"][0]["Resource"] == ["acs:oss:*:*:b/users/alice/*"]
    )
    assert down["Statement"][0]["Action"] == ["oss:GetObject"]
    assert set(up["Statement"][0]["Action"]) == {"oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts"}


def test_sts_same_user_and_scope_returns_cached_credentials(
    appserver: RunningAppServer, alice: str, bob: str
) -> None:
    first = _sts(appserver, alice, "upload")
    assert _sts(appserver, alice, "upload") == first
    assert _sts(appserver, alice, "download")["AccessKeyId"] != first["AccessKeyId"]
    assert _sts(appserver, bob, "upload")["AccessKeyId"] != first["AccessKeyId"]


def test_sts_near_expiry_refreshes(appserver: RunningAppServer, alice: str, clock: Any) -> None:
    first = _sts(appserver, alice, "upload")
    # Both clocks move: the cloud's (so STS and OSS see the time pass) and the app server's own.
    clock.advance(700)
    appserver.clock.advance(700)
    second = _sts(appserver, alice, "upload")
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert second["Expiration"] > first["Expiration"]
    assert _sts(appserver, alice, "upload") == second


def test_sts_credentials_minted_ahead_are_not_served_after_the_clock_moves_back(
    appserver: RunningAppServer, alice: str, clock: Any
) -> None:
    # 09 moves both clocks 30 min ahead and back; credentials minted meanwhile would otherwise stay
    # valid 30 min longer than any client expects, and 10's "expired token" step would not expire.
    clock.advance(1800)
    appserver.clock.advance(1800)
    ahead = _sts(appserver, alice, "upload")
    clock.advance(-1800)
    appserver.clock.advance(-1800)
    again = _sts(appserver, alice, "upload")
    assert again["AccessKeyId"] != ahead["AccessKeyId"]
    assert again["Expiration"] < ahead["Expiration"]
    assert _sts(appserver, alice, "upload") == again


def test_sts_lifetime_follows_sts_clock_not_ours(appserver: RunningAppServer, alice: str, clock: Any) -> None:
    # The cloud's clock runs 2000 s behind ours: every Expiration looks past by our clock. The
    # lifetime is Expiration minus the STS server's time, so the cache must still hold.
    clock.advance(-2000)
    first = _sts(appserver, alice, "download")
    assert _sts(appserver, alice, "download") == first


def test_sts_lifetime_ignores_cloud_clock_ahead(appserver: RunningAppServer, alice: str, clock: Any) -> None:
    # Ahead by an hour: Expiration looks 4500 s away by our clock, but the credentials live 900 s.
    clock.advance(3600)
    first = _sts(appserver, alice, "upload")
    appserver.clock.advance(700)
    clock.advance(700)
    assert _sts(appserver, alice, "upload")["AccessKeyId"] != first["AccessKeyId"]


def test_sts_unreachable_returns_502_json(
    appserver: RunningAppServer, alice: str, creds: dict[str, Any]
) -> None:
    from helpers.appserver.services.sts import StsBroker

    state = appserver.server.config.app.state
    broken = state.settings.model_copy(update={"sts_endpoint": "http://127.0.0.1:1"})
    state.broker = StsBroker(broken, now=appserver.clock.now)
    r = appserver.get("/api/sts", alice, params={"scope": "upload"})
    assert r.status_code == 502
    assert r.json() == {"detail": "STS is unreachable"}
    assert creds["appserver"]["access_key_secret"] not in r.text


def test_sts_refused_role_returns_502_with_code_only(
    appserver: RunningAppServer, alice: str, creds: dict[str, Any]
) -> None:
    from helpers.appserver.services.sts import StsBroker

    state = appserver.server.config.app.state
    wrong = state.settings.model_copy(update={"role_arn": creds["role_arn"] + "-missing"})
    state.broker = StsBroker(wrong, now=appserver.clock.now)
    r = appserver.get("/api/sts", alice, params={"scope": "download"})
    assert r.status_code == 502
    assert r.json()["detail"].startswith("STS AssumeRole failed: ")
