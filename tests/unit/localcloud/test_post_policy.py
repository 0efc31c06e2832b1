"""PostObject model: streaming form reader over bodies built by `requests`, policy decoding, every
condition type, expiry, content-length-range and the success responses."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from helpers.localcloud import xml
from helpers.localcloud.errors import (
    AccessDenied,
    EntityTooLarge,
    EntityTooSmall,
    FieldItemTooLong,
    IncorrectNumberOfFilesInPOSTRequest,
    InvalidPolicyDocument,
    MalformedPOSTRequest,
)
from helpers.localcloud.oss.post_form import PostForm, parse_form
from helpers.localcloud.oss.post_policy import (
    check_policy,
    content_length_bounds,
    decode_policy,
    parse_expiration,
    success_response,
)

T = TypeVar("T")
NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
FUTURE = "2023-11-15T00:00:00.000Z"


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()
    return asyncio.run(main())


def _form_body(data: dict[str, str] | None = None, files: Any = None) -> tuple[str, bytes]:
    prepared = requests.Request("POST", "http://127.0.0.1/bucket", data=data or {}, files=files).prepare()
    assert isinstance(prepared.body, bytes)
    return prepared.headers["Content-Type"], prepared.body


async def _chunks(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(body), size):
        yield bytes(view[start:start + size])


async def _read_all(content_type: str, body: bytes, size: int = 1000) -> tuple[PostForm, bytes]:
    form = await parse_form(content_type, _chunks(body, size))
    data = b"".join([chunk async for chunk in form.file_chunks()])
    await form.drain()
    return form, data


# --- form reader -----------------------------------------------------------------------------------


def test_parse_form_requests_body_returns_fields_and_file() -> None:
    ctype, body = _form_body({"Key": "users/1/${filename}", "x-oss-meta-Tag": "CaseKept"},
                             {"file": ("photo.png", b"\x89PNG-bytes", "image/png")})
    form, data = _run(lambda: _read_all(ctype, body, size=3))
    assert form.fields == {"key": "users/1/${filename}", "x-oss-meta-tag": "CaseKept"}
    assert form.get("KEY") == "users/1/${filename}"
    assert (form.filename, form.file_content_type, data) == ("photo.png", "image/png", b"\x89PNG-bytes")
    assert form.object_key() == "users/1/photo.png"
    assert form.file_size == len(data)


def test_parse_form_fields_after_file_are_ignored() -> None:
    ctype, body = _form_body({"key": "k"}, [("file", ("a.txt", b"payload", "text/plain")),
                                            ("submit", (None, "Upload")), ("key", (None, "other"))])
    form, data = _run(lambda: _read_all(ctype, body))
    assert data == b"payload"
    assert form.fields == {"key": "k"}


def test_parse_form_file_name_case_insensitive_found() -> None:
    ctype, body = _form_body({"key": "k"}, {"File": ("a.txt", b"x", "text/plain")})
    _, data = _run(lambda: _read_all(ctype, body))
    assert data == b"x"


def test_parse_form_20_mib_file_streams_with_bounded_memory() -> None:
    payload = os.urandom(20 * 1024 * 1024)
    ctype, body = _form_body({"key": "big"}, {"file": ("big.bin", payload, "application/octet-stream")})
    expected = hashlib.md5(payload).hexdigest()
    del payload

    async def consume() -> tuple[str, int, int]:
        digest = hashlib.md5()
        tracemalloc.start()
        try:
            form = await parse_form(ctype, _chunks(body, 64 * 1024))
            async for chunk in form.file_chunks():
                digest.update(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return digest.hexdigest(), form.file_size, peak

    digest, size, peak = _run(consume)
    assert (digest, size) == (expected, 20 * 1024 * 1024)
    assert peak < 2 * 1024 * 1024, f"peak traced memory {peak} bytes: the file was buffered"


def test_file_chunks_over_max_size_raises_entity_too_large_early() -> None:
    ctype, body = _form_body({"key": "k"}, {"file": ("a", b"0123456789" * 100, "text/plain")})

    async def consume() -> int:
        form = await parse_form(ctype, _chunks(body, 50))
        seen = 0
        with pytest.raises(EntityTooLarge):
            async for chunk in form.file_chunks(max_size=300):
                seen += len(chunk)
        return seen
    assert _run(consume) <= 300


@pytest.mark.parametrize("cut", [10, 120, -60, -10])
def test_parse_form_truncated_body_raises_malformed(cut: int) -> None:
    ctype, body = _form_body({"key": "k"}, {"file": ("a.txt", b"x" * 100, "text/plain")})
    with pytest.raises(MalformedPOSTRequest):
        _run(lambda: _read_all(ctype, body[:cut]))


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/x-www-form-urlencoded",
                                          "", "multipart/form-data; boundary="])
def test_parse_form_missing_boundary_raises_malformed(content_type: str) -> None:
    _, body = _form_body({"key": "k"}, {"file": ("a.txt", b"x", "text/plain")})
    with pytest.raises(MalformedPOSTRequest):
        _run(lambda: _read_all(content_type, body))


def test_parse_form_wrong_boundary_raises_malformed() -> None:
    ctype, body = _form_body({"key": "k"}, {"file": ("a.txt", b"x", "text/plain")})
    with pytest.raises(MalformedPOSTRequest):
        _run(lambda: _read_all(ctype.replace("boundary=", "boundary=zz"), body))


def test_parse_form_empty_body_raises_malformed() -> None:
    with pytest.raises(MalformedPOSTRequest):
        _run(lambda: _read_all("multipart/form-data; boundary=abc", b""))


def test_parse_form_no_file_part_raises_incorrect_number_of_files() -> None:
    prepared = requests.Request("POST", "http://127.0.0.1/", files={"key": (None, "k")}).prepare()
    assert isinstance(prepared.body, bytes)
    with pytest.raises(IncorrectNumberOfFilesInPOSTRequest):
        _run(lambda: _read_all(prepared.headers["Content-Type"], prepared.body))


def test_parse_form_part_without_name_raises_malformed() -> None:
    body = (b"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b--\r\n")
    with pytest.raises(MalformedPOSTRequest):
        _run(lambda: _read_all("multipart/form-data; boundary=b", body))


def test_parse_form_value_over_limit_raises_field_item_too_long() -> None:
    ctype, body = _form_body({"key": "k" * 101}, {"file": ("a", b"x", "text/plain")})
    with pytest.raises(FieldItemTooLong):
        _run(lambda: parse_form(ctype, _chunks(body), max_field_bytes=100))


def test_parse_form_field_names_over_8_kib_raise_field_item_too_long() -> None:
    fields = {f"x-oss-meta-{i:04d}-" + "n" * 100: "v" for i in range(80)}  # 80 * 116 bytes > 8 KiB
    ctype, body = _form_body(fields, {"file": ("a", b"x", "text/plain")})
    with pytest.raises(FieldItemTooLong):
        _run(lambda: _read_all(ctype, body))


def test_parse_form_default_value_limit_is_2_mib() -> None:
    ok_type, ok_body = _form_body({"policy": "p" * (2 * 1024 * 1024)}, {"file": ("a", b"x", "text/plain")})
    form, _ = _run(lambda: _read_all(ok_type, ok_body, 64 * 1024))
    assert len(form.get("policy") or "") == 2 * 1024 * 1024
    big_type, big_body = _form_body({"policy": "p" * (2 * 1024 * 1024 + 1)}, {"file": ("a", b"x", "t/p")})
    with pytest.raises(FieldItemTooLong):
        _run(lambda: _read_all(big_type, big_body, 64 * 1024))


def test_object_key_missing_raises_incorrect_number_of_files() -> None:
    ctype, body = _form_body({"policy": "p"}, {"file": ("a", b"x", "text/plain")})
    form, _ = _run(lambda: _read_all(ctype, body))
    with pytest.raises(IncorrectNumberOfFilesInPOSTRequest):
        form.object_key()


# --- policy document ---------------------------------------------------------------------------------


def _b64(doc: Any) -> str:
    return base64.b64encode(json.dumps(doc).encode()).decode()


def _policy(*conditions: Any, expiration: str = FUTURE) -> dict[str, Any]:
    return decode_policy(_b64({"expiration": expiration, "conditions": list(conditions)}))


def _check(policy: dict[str, Any], fields: dict[str, str], *, size: int | None = 10,
            version: str = "v1") -> None:
    check_policy(policy, fields=fields, bucket="bkt", now=NOW, file_size=size, signature_version=version)


@pytest.mark.parametrize(("value", "expected"), [
    ("2023-11-14T22:13:20Z", NOW), ("2023-11-14T22:13:20.000Z", NOW), ("2023-11-14T22:13:20.5Z", NOW + 0.5),
])
def test_parse_expiration_iso8601_forms_parse(value: str, expected: float) -> None:
    assert parse_expiration(value) == expected


@pytest.mark.parametrize("value", ["2023-11-14 22:13:20Z", "2023-11-14T22:13:20", "2023-13-01T00:00:00Z",
                                   "2023-11-14T22:13:20+08:00", 1700000000])
def test_parse_expiration_bad_value_raises_invalid_policy(value: object) -> None:
    with pytest.raises(InvalidPolicyDocument) as exc:
        parse_expiration(value)
    assert exc.value.message.startswith("Invalid Policy: ")


@pytest.mark.parametrize(("policy_b64", "ec"), [
    ("not base64!", "0006-00000201"),
    (base64.b64encode(b"{not json").decode(), "0006-00000201"),
    (_b64([1, 2]), "0006-00000201"),
    (_b64({"expiration": FUTURE}), "0006-00000209"),
    (_b64({"conditions": []}), "0006-00000209"),
    (_b64({"expiration": FUTURE, "conditions": [], "test": "x"}), "0006-00000206"),
    (_b64({"expiration": FUTURE, "conditions": "abc"}), "0006-00000201"),
    (_b64({"expiration": FUTURE, "conditions": [123]}), "0006-00000222"),
    (_b64({"expiration": FUTURE, "conditions": [["$key"]]}), "0006-00000216"),
    (_b64({"expiration": FUTURE, "conditions": [["eq", "$key"]]}), "0006-00000216"),
    (_b64({"expiration": FUTURE, "conditions": [["content-length-range", 20, 10]]}), "0006-00000219"),
    (_b64({"expiration": FUTURE, "conditions": [["content-length-range", 10, "test"]]}), "0006-00000221"),
    (_b64({"expiration": FUTURE, "conditions": [["not-in", "$cache-control", "no-cache"]]}), "0006-00000224"),
    (_b64({"expiration": FUTURE, "conditions": [["eq", "$key", 5]]}), "0006-00000224"),
])
def test_decode_policy_bad_document_raises_invalid_policy(policy_b64: str, ec: str) -> None:
    with pytest.raises(InvalidPolicyDocument) as exc:
        decode_policy(policy_b64)
    assert (exc.value.status, exc.value.ec) == (400, ec)


def test_decode_policy_simple_condition_with_two_properties_raises_exact_message() -> None:
    with pytest.raises(InvalidPolicyDocument) as exc:
        decode_policy(_b64({"expiration": FUTURE, "conditions": [{"bucket": "b", "key": "k"}]}))
    assert exc.value.message == ("Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have "
                                 "exactly one property specified.")


def test_check_policy_expired_raises_access_denied() -> None:
    policy = _policy(expiration="2023-11-14T22:13:20.000Z")  # == NOW
    with pytest.raises(AccessDenied) as exc:
        _check(policy, {})
    assert exc.value.message == "Invalid according to Policy: Policy expired."


@pytest.mark.parametrize(("condition", "fields"), [
    ({"key": "a/b.txt"}, {"key": "a/b.txt"}),
    ({"bucket": "bkt"}, {}),
    ({"Content-Type": "image/png"}, {"content-type": "image/png"}),
    (["eq", "$key", "a/b.txt"], {"KEY": "a/b.txt"}),
    (["eq", "$bucket", "bkt"], {}),
    (["starts-with", "$key", "user/eric/"], {"key": "user/eric/x"}),
    (["starts-with", "$key", ""], {"key": "anything"}),
    (["starts-with", "$Content-Type", "image/"], {"content-type": "image/png"}),
    (["in", "$content-type", ["image/jpg", "image/png"]], {"content-type": "image/png"}),
    (["not-in", "$cache-control", ["no-cache"]], {"cache-control": "max-age=60"}),
    (["not-in", "$cache-control", ["no-cache"]], {}),
    (["content-length-range", 1, 10], {}),
    (["content-length-range", 10, 10], {}),
])
def test_check_policy_condition_holds_passes(condition: Any, fields: dict[str, str]) -> None:
    _check(_policy(condition), fields, size=10)


@pytest.mark.parametrize(("condition", "fields", "message"), [
    ({"key": "a/b.txt"}, {"key": "A/b.txt"}, '{"key": "a/b.txt"}'),
    ({"bucket": "other"}, {"bucket": "other"}, '{"bucket": "other"}'),
    (["eq", "$key", "a"], {}, '["eq", "$key", "a"]'),
    (["starts-with", "$key", "user/eric/"], {"key": "user/bob/x"}, '["starts-with", "$key", "user/eric/"]'),
    (["starts-with", "$key", ""], {}, '["starts-with", "$key", ""]'),
    (["in", "$content-type", ["image/jpg", "image/png"]], {"content-type": "text/html"},
     '["in", "$content-type", ["image/jpg", "image/png"]]'),
    (["not-in", "$cache-control", ["no-cache"]], {"Cache-Control": "no-cache"},
     '["not-in", "$cache-control", ["no-cache"]]'),
])
def test_check_policy_condition_fails_raises_exact_message(condition: Any, fields: dict[str, str],
                                                           message: str) -> None:
    with pytest.raises(AccessDenied) as exc:
        _check(_policy(condition), fields)
    assert exc.value.status == 403
    assert exc.value.message == f"Invalid according to Policy: Policy Condition failed: {message}"


def test_check_policy_content_length_range_bounds_raise_entity_errors() -> None:
    policy = _policy(["content-length-range", 5, 10])
    with pytest.raises(EntityTooSmall):
        _check(policy, {}, size=4)
    with pytest.raises(EntityTooLarge):
        _check(policy, {}, size=11)
    _check(policy, {}, size=None)  # not known yet: checked after streaming


def test_content_length_bounds_intersects_ranges() -> None:
    assert content_length_bounds(_policy(["content-length-range", 0, 100],
                                         ["content-length-range", 10, 1000])) == (10, 100)
    assert content_length_bounds(_policy(["eq", "$key", "k"])) is None


def test_check_policy_uncovered_fields_are_allowed() -> None:
    _check(_policy(["eq", "$key", "k"]), {"key": "k", "x-oss-meta-free": "1", "success_action_status": "201"})


def test_check_policy_v4_without_v4_conditions_raises_access_denied() -> None:
    fields = {"key": "k", "x-oss-signature-version": "OSS4-HMAC-SHA256",
              "x-oss-credential": "ak/20231114/cn-hangzhou/oss/aliyun_v4_request",
              "x-oss-date": "20231114T221320Z"}
    with pytest.raises(AccessDenied) as exc:
        _check(_policy(["eq", "$key", "k"]), fields, version="v4")
    assert "x-oss-date" in exc.value.message
    _check(_policy(["eq", "$key", "k"], {"x-oss-signature-version": "OSS4-HMAC-SHA256"},
                   {"x-oss-credential": fields["x-oss-credential"]}, {"x-oss-date": fields["x-oss-date"]}),
           fields, version="v4")


# --- success responses -------------------------------------------------------------------------------


def test_success_response_default_is_204_with_quoted_etag() -> None:
    result = success_response({}, bucket="b", key="k", etag="ABC", location="http://b.host/k")
    assert (result.status, result.headers, result.body) == (204, {"ETag": '"ABC"'}, b"")


@pytest.mark.parametrize(("value", "status"), [("200", 200), ("204", 204), ("299", 204), ("", 204)])
def test_success_response_action_status_maps(value: str, status: int) -> None:
    result = success_response({"success_action_status": value}, bucket="b", key="k", etag='"E"', location="l")
    assert (result.status, result.body) == (status, b"")


def test_success_response_201_returns_post_response_xml() -> None:
    result = success_response({"Success_Action_Status": "201"}, bucket="b", key="a&b", etag="E",
                              location="http://b.host/a%26b")
    assert result.status == 201
    assert result.headers["Content-Type"] == "application/xml"
    root = xml.parse(result.body)
    assert root.tag == "PostResponse"
    assert [(c.tag, c.text) for c in root] == [("Bucket", "b"), ("Location", "http://b.host/a%26b"),
                                               ("Key", "a&b"), ("ETag", '"E"')]


def test_success_response_redirect_returns_303_with_query() -> None:
    result = success_response({"success_action_redirect": "https://app.example/done?x=1",
                               "success_action_status": "201"}, bucket="b", key="users/1/a b", etag="E",
                              location="l")
    assert result.status == 303
    url = urlsplit(result.headers["Location"])
    assert (url.netloc, url.path) == ("app.example", "/done")
    assert parse_qs(url.query) == {"x": ["1"], "bucket": ["b"], "key": ["users/1/a b"], "etag": ['"E"']}
