"""V4 canonical request, string to sign and signature: reference §15 rows 8-16
(v2 SDK `tests/unit/signer/test_v4.py`)."""

from __future__ import annotations

import time

import pytest

from helpers.localcloud.oss import sigv4
from helpers.localcloud.oss.request import Headers
from helpers.localcloud.oss.routing import parse_query

KEY = "1234+-/123/1.txt"
# The SDK test encodes its params with quote(): `+param1` → `%2Bparam1`, `|param1` → `%7Cparam1`.
RAW_QUERY = "param1=value1&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2&%7Cparam2&param2"
CANON_QUERY = "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2"


def _iso(t: int) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def _header_headers(t: int, **extra: str) -> Headers:
    return Headers({"x-oss-head1": "value", "abc": "value", "ZAbc": "value", "XYZ": "value",
                    "content-type": "text/plain", "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
                    "x-oss-date": _iso(t), **extra})


def _header_sig(t: int, headers: Headers, additional: tuple[str, ...] = (), *, region: str = "cn-hangzhou",
                product: str = "oss") -> str:
    creq = sigv4.canonical_request("PUT", "bucket", KEY, parse_query(RAW_QUERY), headers, additional)
    date = _iso(t)
    sts = sigv4.string_to_sign(date, sigv4.scope(date[:8], region, product), creq)
    return sigv4.v4_signature(sigv4.signing_key("sk", date[:8], region, product), sts)


def test_v4_header_canonical_request_and_signature_match_vector_8() -> None:
    t = 1702743657
    headers = _header_headers(t)
    creq = sigv4.canonical_request("PUT", "bucket", KEY, parse_query(RAW_QUERY), headers)
    assert creq == ("PUT\n/bucket/1234%2B-/123/1.txt\n" + CANON_QUERY + "\n"
                    "content-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n"
                    "x-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD")
    sts = sigv4.string_to_sign("20231216T162057Z", sigv4.scope("20231216", "cn-hangzhou"), creq)
    assert sts == ("OSS4-HMAC-SHA256\n20231216T162057Z\n20231216/cn-hangzhou/oss/aliyun_v4_request\n"
                   "f4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4")
    assert _header_sig(t, headers) == "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"


def test_v4_header_with_token_matches_vector_9() -> None:
    t = 1702784856
    headers = _header_headers(t, **{"x-oss-security-token": "token"})
    assert _header_sig(t, headers) == "b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea"


def test_v4_header_additional_headers_match_vector_10() -> None:
    t = 1702747512
    auth = sigv4.parse_authorization(
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f")
    assert auth is not None and auth.additional_headers == ("abc", "zabc")
    assert _header_sig(t, _header_headers(t), auth.additional_headers) == auth.signature


def test_v4_header_cloudbox_matches_vector_11() -> None:
    t = 1702743657
    assert _header_sig(t, _header_headers(t), region="cb-123", product="oss-cloudbox") \
        == "94ce1f12c17d148ea681030275a94449d3357f5b5b21133996eec80af3e08a43"


def _query_sig(t: int, expires: int, *, token: str | None = None, additional: str = "",
               region: str = "cn-hangzhou", product: str = "oss") -> str:
    date = _iso(t)
    raw = (RAW_QUERY + "&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=" + date
           + f"&x-oss-expires={expires}&x-oss-credential=ak%2F{date[:8]}%2F{region}%2F{product}"
           "%2Faliyun_v4_request")
    if token:
        raw += "&x-oss-security-token=" + token
    if additional:
        raw += "&x-oss-additional-headers=" + additional.replace(";", "%3B")
    raw += "&x-oss-signature=ignored"
    headers = Headers({"x-oss-head1": "value", "abc": "value", "ZAbc": "value", "XYZ": "value",
                       "content-type": "application/octet-stream"})
    addl = tuple(h for h in additional.split(";") if h)
    creq = sigv4.canonical_request("PUT", "bucket", KEY, parse_query(raw), headers, addl,
                                   exclude_query=frozenset({"x-oss-signature"}))
    sts = sigv4.string_to_sign(date, sigv4.scope(date[:8], region, product), creq)
    return sigv4.v4_signature(sigv4.signing_key("sk", date[:8], region, product), sts)


def test_v4_query_canonical_query_tail_matches_vector_12() -> None:
    raw = (RAW_QUERY + "&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20231217T025437Z"
           "&x-oss-expires=599&x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request"
           "&x-oss-signature=abc")
    assert sigv4.canonical_query(parse_query(raw), exclude=frozenset({"x-oss-signature"})) == (
        CANON_QUERY + "&x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request"
        "&x-oss-date=20231217T025437Z&x-oss-expires=599&x-oss-signature-version=OSS4-HMAC-SHA256")
    assert _query_sig(1702781677, 599) == "a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"


def test_v4_query_with_token_matches_vector_13() -> None:
    assert _query_sig(1702785388, 599, token="token") \
        == "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5"


def test_v4_query_additional_headers_match_vector_14() -> None:
    assert _query_sig(1702783809, 599, additional="abc;zabc") \
        == "6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7"


def test_v4_query_five_day_expiry_matches_vector_15() -> None:
    assert _query_sig(1702781677, 432000) \
        == "31029123dc7732d2d2cfd4006ea4fdb6cf86da6478f813e2bf8f87877c7b9fec"


@pytest.mark.parametrize(("t", "expected"), [
    (1702781677, "07284191b9b4978ac3520cd39ee2dea2747eda454089359371ff463a6c7ba20f"),
    (1702783809, "16782cc8a7a554523db055eb804b508522e7e370073108ad88ee2f47496701dd"),
])
def test_v4_query_cloudbox_matches_vector_16(t: int, expected: str) -> None:
    assert _query_sig(t, 599, additional="abc;zabc", region="cb-123", product="oss-cloudbox") == expected


def test_v4_canonical_query_plus_and_percent20_are_the_same_space() -> None:
    plus = sigv4.canonical_query(parse_query("prefix=a+b"))
    assert plus == sigv4.canonical_query(parse_query("prefix=a%20b")) == "prefix=a%20b"


def test_v4_canonical_uri_encodes_utf8_upper_hex_keeps_slash() -> None:
    assert sigv4.canonical_uri("b", "dir/中 文+~.txt") == "/b/dir/%E4%B8%AD%20%E6%96%87%2B~.txt"
    assert sigv4.canonical_uri(None, None) == "/"
    assert sigv4.canonical_uri("b", None) == "/b/"


def test_v4_parse_authorization_oss2_variant_additional_last() -> None:
    cred = "ak/20231216/cn-hangzhou/oss/aliyun_v4_request"
    auth = sigv4.parse_authorization(
        f"OSS4-HMAC-SHA256 Credential={cred}, Signature=abc, AdditionalHeaders=range;host")
    assert auth == sigv4.Authorization(cred, "abc", ("range", "host"))


def test_v4_parse_credential_wrong_terminator_is_none() -> None:
    assert sigv4.parse_credential("ak/20231216/cn-hangzhou/oss/aliyun_v3_request") is None
    assert sigv4.parse_credential("ak/20231216/cn-hangzhou/oss") is None
