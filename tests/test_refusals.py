"""helpers.refusals against real refusals of the local cloud: the code, status and message shown, and
`refused` failing loudly when a step is not refused (or refused for another reason)."""

from __future__ import annotations

from typing import Any

import httpx
import oss2
import pytest

from helpers.refusals import NotRefused, describe_error, refused
from helpers.workbook import refused as workbook_refused
from tests.conftest import BUCKET


def _anonymous_get(bucket: oss2.Bucket, key: str) -> httpx.Response:
    """An unsigned GET of an object in the private workbook bucket: OSS answers 403 AccessDenied."""
    bucket.put_object(key, b"private")
    return httpx.get(f"{bucket.endpoint}/{BUCKET}/{key}", trust_env=False).raise_for_status()


def test_http_refusal_shows_the_oss_xml_code(workbook_bucket: oss2.Bucket,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with refused("AccessDenied", status=403) as outcome:
        _anonymous_get(workbook_bucket, "refusals/private.txt")
    assert outcome.code == "AccessDenied" and outcome.status == 403 and outcome.message
    assert capsys.readouterr().out.startswith("refused: 403 AccessDenied — ")


def test_http_refusal_shows_ec_and_recommend_doc(workbook_bucket: oss2.Bucket, creds: dict[str, Any],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A URL signed with the right key id but a wrong secret: OSS's <EC> and <RecommendDoc> follow on
    the next line, as the local cloud sent them."""
    workbook_bucket.put_object("refusals/signed.txt", b"signed")
    wrong_auth = oss2.Auth(creds["admin"]["access_key_id"], "not-the-secret")
    wrong = oss2.Bucket(wrong_auth, workbook_bucket.endpoint, BUCKET)
    with refused("SignatureDoesNotMatch", status=403) as outcome:
        httpx.get(wrong.sign_url("GET", "refusals/signed.txt", 60), trust_env=False).raise_for_status()
    assert outcome.ec == "0002-00000040" and outcome.recommend_doc.endswith(outcome.ec)
    assert capsys.readouterr().out.splitlines()[1] == f"  EC {outcome.ec} · {outcome.recommend_doc}"


def test_sdk_refusal_is_described_from_the_sdk_exception(workbook_bucket: oss2.Bucket) -> None:
    bucket = oss2.Bucket(oss2.Auth("LTAInotakey", "not-a-secret"), workbook_bucket.endpoint, BUCKET)
    with pytest.raises(oss2.exceptions.OssError) as info:
        bucket.get_object("x.txt")
    got = describe_error(info.value)
    assert (got.status, got.code) == (403, "InvalidAccessKeyId")
    assert got.ec == info.value.details["EC"] and got.ec.startswith("0002-")
    assert got.recommend_doc == info.value.details["RecommendDoc"]


def test_v2_sdk_refusal_carries_the_ec(cloud, workbook_bucket: oss2.Bucket) -> None:
    import alibabacloud_oss_v2 as oss_v2

    cfg = oss_v2.config.load_default()
    cfg.credentials_provider = oss_v2.credentials.StaticCredentialsProvider("LTAInotakey", "not-a-secret")
    cfg.region, cfg.endpoint, cfg.use_path_style = "cn-hangzhou", workbook_bucket.endpoint, True
    with pytest.raises(oss_v2.exceptions.OperationError) as info:
        oss_v2.Client(cfg).get_object(oss_v2.models.GetObjectRequest(bucket=BUCKET, key="x.txt"))
    got = describe_error(info.value.unwrap())
    assert got.code == "InvalidAccessKeyId" and got.ec.startswith("0002-")
    assert got.recommend_doc.endswith(got.ec)


def test_the_clients_refusal_keeps_the_ec(workbook_bucket: oss2.Bucket) -> None:
    """The mobile client translates SDK and HTTP errors into its own; the EC must survive both."""
    from helpers.client.results import call_oss2, http_error

    bucket = oss2.Bucket(oss2.Auth("LTAInotakey", "not-a-secret"), workbook_bucket.endpoint, BUCKET)
    with pytest.raises(Exception) as info:
        call_oss2(lambda: bucket.get_object("x.txt"))
    via_sdk = describe_error(info.value)
    workbook_bucket.put_object("refusals/private.txt", b"private")
    answer = httpx.get(f"{workbook_bucket.endpoint}/{BUCKET}/refusals/private.txt", trust_env=False)
    via_http = describe_error(http_error(answer))
    assert via_sdk.ec.startswith("0002-") and via_sdk.recommend_doc.endswith(via_sdk.ec)
    assert via_http.code == "AccessDenied" and via_http.ec and via_http.recommend_doc.endswith(via_http.ec)


def test_a_refusal_without_ec_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from helpers.client.errors import app_server_error

    with refused(status=401):
        raise app_server_error(401, "wrong username or password")
    assert capsys.readouterr().out == "refused: 401 — wrong username or password\n"


def test_a_step_that_goes_through_is_not_a_refusal() -> None:
    with pytest.raises(NotRefused, match="went through"), refused("AccessDenied"):
        pass


def test_a_refusal_for_another_reason_is_not_the_lesson(workbook_bucket: oss2.Bucket) -> None:
    with pytest.raises(NotRefused, match="expected NoSuchKey, got 403 AccessDenied"), refused("NoSuchKey"):
        _anonymous_get(workbook_bucket, "refusals/private.txt")


def test_the_notebooks_reach_it_as_workbook_refused() -> None:
    assert workbook_refused is refused


def test_the_local_clouds_placeholder_ec_is_named_as_such(workbook_bucket: oss2.Bucket,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A refused CORS preflight (an EC the local cloud does not know): no fake troubleshooting link."""
    from helpers.refusals import PLACEHOLDER_EC

    with refused("AccessForbidden", status=403) as outcome:
        httpx.options(f"{workbook_bucket.endpoint}/{BUCKET}/x.txt", trust_env=False,
                      headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "PUT"}
                      ).raise_for_status()
    assert outcome.ec == PLACEHOLDER_EC
    second = capsys.readouterr().out.splitlines()[1]
    assert second.startswith(f"  EC {PLACEHOLDER_EC} (the local cloud's placeholder") and "http" not in second


def test_an_expired_signed_url_carries_its_real_ec(workbook_bucket: oss2.Bucket, clock: Any) -> None:
    """EC 0002-00000069 is OSS's "URL签名已过期" (help.aliyun.com/zh/oss/support/0002-00000069)."""
    workbook_bucket.put_object("refusals/expiring.txt", b"soon gone")
    url = workbook_bucket.sign_url("GET", "refusals/expiring.txt", 60)
    clock.set_offset(120)
    with refused("AccessDenied", status=403) as outcome:
        httpx.get(url, trust_env=False).raise_for_status()
    assert outcome.message == "Request has expired." and outcome.ec == "0002-00000069"
