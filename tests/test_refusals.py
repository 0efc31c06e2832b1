"""helpers.refusals against real refusals of the local cloud: the code, status and message shown, and
`refused` failing loudly when a step is not refused (or refused for another reason)."""

from __future__ import annotations

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


def test_sdk_refusal_is_described_from_the_sdk_exception(workbook_bucket: oss2.Bucket) -> None:
    bucket = oss2.Bucket(oss2.Auth("LTAInotakey", "not-a-secret"), workbook_bucket.endpoint, BUCKET)
    with pytest.raises(oss2.exceptions.OssError) as info:
        bucket.get_object("x.txt")
    got = describe_error(info.value)
    assert (got.status, got.code) == (403, "InvalidAccessKeyId")


def test_a_step_that_goes_through_is_not_a_refusal() -> None:
    with pytest.raises(NotRefused, match="went through"), refused("AccessDenied"):
        pass


def test_a_refusal_for_another_reason_is_not_the_lesson(workbook_bucket: oss2.Bucket) -> None:
    with pytest.raises(NotRefused, match="expected NoSuchKey, got 403 AccessDenied"), refused("NoSuchKey"):
        _anonymous_get(workbook_bucket, "refusals/private.txt")


def test_the_notebooks_reach_it_as_workbook_refused() -> None:
    assert workbook_refused is refused
