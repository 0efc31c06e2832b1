"""V1 string-to-sign and signature: reference §15 rows 1-7 (v2 SDK `tests/unit/signer/test_v1.py`)."""

from __future__ import annotations

from helpers.localcloud.oss import sigv1
from helpers.localcloud.oss.request import Headers
from helpers.localcloud.oss.routing import parse_query

DATE = "Wed, 28 Dec 2022 10:27:41 GMT"
PUT_HEADERS = Headers({"Content-MD5": "eB5eJF1ptWaXm4bijSPyxw==", "Content-Type": "text/html",
                       "x-oss-meta-author": "alice", "x-oss-meta-magic": "abracadabra", "x-oss-date": DATE})


def _sign(sts: str) -> str:
    return sigv1.v1_signature("sk", sts)


def test_v1_header_put_object_matches_vector_1() -> None:
    sts = sigv1.string_to_sign("PUT", PUT_HEADERS, "examplebucket", "nelson", ())
    assert sts == (f"PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\n{DATE}\nx-oss-date:{DATE}\n"
                   "x-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson")
    assert _sign(sts) == "kSHKmLxlyEAKtZPkJhG9bZb5k7M="


def test_v1_header_acl_subresource_matches_vector_2() -> None:
    sts = sigv1.string_to_sign("PUT", PUT_HEADERS, "examplebucket", "nelson", parse_query("acl"))
    assert sts.endswith("/examplebucket/nelson?acl")
    assert _sign(sts) == "/afkugFbmWDQ967j1vr6zygBLQk="


def test_v1_header_unknown_param_dropped_matches_vector_3() -> None:
    headers = Headers({"x-oss-date": DATE})
    query = parse_query("resourceGroup&non-resousce=null")
    for _name, pred in sigv1.SUBRESOURCE_CANDIDATES:
        sts = sigv1.string_to_sign("GET", headers, "examplebucket", None, query, is_subresource=pred)
        assert sts == f"GET\n\n\n{DATE}\nx-oss-date:{DATE}\n/examplebucket/?resourceGroup"
        assert _sign(sts) == "vkQmfuUDyi1uDi3bKt67oemssIs="


def test_v1_header_subresources_sorted_matches_vector_4() -> None:
    sts = sigv1.string_to_sign("GET", Headers({"x-oss-date": DATE}), "examplebucket", None,
                               parse_query("resourceGroup&acl"))
    assert sts.endswith("\n/examplebucket/?acl&resourceGroup")
    assert _sign(sts) == "x3E5TgOvl/i7PN618s5mEvpJDYk="


def test_v1_query_expires_in_date_slot_matches_vector_5() -> None:
    query = parse_query("versionId=versionId&OSSAccessKeyId=ak&Expires=1699807420")
    sts = sigv1.string_to_sign("GET", Headers({}), "bucket", "key", query, date="1699807420")
    assert sts == "GET\n\n\n1699807420\n/bucket/key?versionId=versionId"
    assert _sign(sts) == "dcLTea+Yh9ApirQ8o8dOPqtvJXQ="


def test_v1_query_security_token_is_subresource_matches_vector_6() -> None:
    query = parse_query("versionId=versionId&OSSAccessKeyId=ak&Expires=1699808204&security-token=token")
    sts = sigv1.string_to_sign("GET", Headers({}), "bucket", "key+123", query, date="1699808204")
    assert sts == "GET\n\n\n1699808204\n/bucket/key+123?security-token=token&versionId=versionId"
    assert _sign(sts) == "jzKYRrM5y6Br0dRFPaTGOsbrDhY="


def test_v1_query_decoded_values_and_headers_match_vector_7() -> None:
    # The SDK test URL really has a second `?`: versionId's value is `versionId?param1=value1`.
    raw = ("versionId=versionId?param1=value1&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2&%7Cparam2&param2"
           "&response-content-disposition=attachment%3B%20filename%3Dexample.txt"
           "&OSSAccessKeyId=ak&Expires=1699808204&security-token=token")
    headers = Headers({"x-oss-head1": "value", "abc": "value", "ZAbc": "value", "XYZ": "value",
                       "content-type": "application/octet-stream"})
    candidates = sigv1.string_to_sign_candidates("GET", headers, "bucket", "key", parse_query(raw),
                                                 date="1699808204")
    assert candidates[0] == ("GET\n\napplication/octet-stream\n1699808204\nx-oss-head1:value\n/bucket/key"
                             "?response-content-disposition=attachment; filename=example.txt"
                             "&security-token=token&versionId=versionId?param1=value1")
    assert _sign(candidates[0]) == "3GJoEOv5LX2ASp0HJk/hAk+qLJc="


def test_v1_candidates_x_oss_process_differs_between_sets() -> None:
    query = parse_query("x-oss-process=image/resize,w_100&website")
    c = sigv1.string_to_sign_candidates("GET", Headers({"date": DATE}), "b", "k", query)
    assert c == [f"GET\n\n\n{DATE}\n/b/k?website&x-oss-process=image/resize,w_100",
                 f"GET\n\n\n{DATE}\n/b/k?x-oss-process=image/resize,w_100",
                 f"GET\n\n\n{DATE}\n/b/k"]


def test_v1_resource_service_level_is_slash() -> None:
    assert sigv1.canonical_resource(None, None, (), sigv1.OSS2_SUBRESOURCES.__contains__) == "/"


def test_v1_resource_empty_value_is_bare_name() -> None:
    pred = sigv1.OSS2_SUBRESOURCES.__contains__
    assert sigv1.canonical_resource("b", None, parse_query("uploads="), pred) == "/b/?uploads"


def test_v1_string_to_sign_bytes_upper_hex() -> None:
    assert sigv1.string_to_sign_bytes("GET\n中") == "47 45 54 0A E4 B8 AD"
