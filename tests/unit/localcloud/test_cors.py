"""Bucket CORS rules: PutBucketCors bodies from both SDKs' serializers, GetBucketCors body read back by
oss2's parser, preflight and actual-request matching."""

from __future__ import annotations

import pytest
from alibabacloud_oss_v2 import models as v2models
from alibabacloud_oss_v2 import serde
from oss2 import xml_utils
from oss2.models import BucketCors, CorsRule

from helpers.localcloud.errors import AccessForbidden, InvalidArgument, MalformedXML
from helpers.localcloud.oss.cors import (
    actual_request_headers,
    cors_xml,
    parse_cors_config,
    parse_cors_xml,
    preflight,
)


def _oss2_body(*rules: CorsRule, response_vary: bool | None = None) -> bytes:
    return xml_utils.to_put_bucket_cors(BucketCors(list(rules), response_vary=response_vary))


def _rule(origins: list[str], methods: list[str], headers: list[str] | None = None,
          expose: list[str] | None = None, max_age: int | None = None) -> dict[str, object]:
    return {"allowed_origins": origins, "allowed_methods": methods, "allowed_headers": headers or [],
            "expose_headers": expose or [], "max_age_seconds": max_age}


def _body(rule_xml: str, count: int = 1) -> bytes:
    rules = f"<CORSRule>{rule_xml}</CORSRule>" * count
    return f"<CORSConfiguration>{rules}</CORSConfiguration>".encode()


OK_RULE = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"


def test_parse_cors_xml_oss2_body_keeps_every_element() -> None:
    body = _oss2_body(CorsRule(allowed_origins=["http://a.example", "https://*.b.example"],
                               allowed_methods=["GET", "PUT"], allowed_headers=["*"],
                               expose_headers=["ETag", "x-oss-request-id"], max_age_seconds=100),
                      response_vary=True)
    config = parse_cors_config(body)
    assert config.response_vary is True
    assert config.rules == (_rule(["http://a.example", "https://*.b.example"], ["GET", "PUT"], ["*"],
                                  ["ETag", "x-oss-request-id"], 100),)


def test_cors_xml_read_by_oss2_parser_round_trips() -> None:
    original = CorsRule(allowed_origins=["*"], allowed_methods=["PUT", "POST"], allowed_headers=["x-oss-*"],
                        expose_headers=["ETag"], max_age_seconds=60)
    config = parse_cors_config(_oss2_body(original, response_vary=False))
    parsed = BucketCors()
    xml_utils.parse_get_bucket_cors(parsed, cors_xml(config.rules, response_vary=config.response_vary))
    (rule,) = parsed.rules
    assert (rule.allowed_origins, rule.allowed_methods, rule.allowed_headers, rule.expose_headers,
            rule.max_age_seconds) == (["*"], ["PUT", "POST"], ["x-oss-*"], ["ETag"], 60)
    assert parsed.response_vary is False


def test_parse_cors_xml_v2_model_body_parses() -> None:
    config = v2models.CORSConfiguration(
        cors_rules=[v2models.CORSRule(allowed_origins=["http://x.example"], allowed_methods=["HEAD"],
                                      max_age_seconds=5)],
        response_vary=True)
    body = serde.serialize_xml(config)
    # ResponseVary is kept with the stored rules, and GetBucketCors gives it back.
    stored = parse_cors_xml(body)
    assert stored == ({**_rule(["http://x.example"], ["HEAD"], max_age=5), "response_vary": True},)
    out = v2models.CORSConfiguration()
    serde.deserialize_xml(cors_xml(stored), out, expect_tag="CORSConfiguration")
    assert out.response_vary is True


def test_stored_response_vary_sends_vary_origin_on_every_answer() -> None:
    rule = CorsRule(allowed_origins=["https://app.example"], allowed_methods=["GET"])
    stored = parse_cors_xml(_oss2_body(rule, response_vary=True))
    allowed = preflight(stored, origin="https://app.example", method="GET", request_headers=None)
    assert allowed["Vary"] == "Origin"
    with pytest.raises(AccessForbidden) as exc:
        preflight(stored, origin="https://evil.example", method="GET", request_headers=None)
    assert exc.value.headers == {"Vary": "Origin"}
    assert actual_request_headers(stored, origin="https://app.example", method="GET")["Vary"] == "Origin"
    assert actual_request_headers(stored, origin=None, method="GET") == {"Vary": "Origin"}
    unset = parse_cors_xml(_oss2_body(CorsRule(allowed_origins=["*"], allowed_methods=["GET"])))
    assert "Vary" not in preflight(unset, origin="https://a.example", method="GET", request_headers=None)
    assert actual_request_headers(unset, origin=None, method="GET") == {}


def test_cors_xml_read_by_v2_parser_round_trips() -> None:
    body = cors_xml((_rule(["*"], ["GET"], ["*"], ["ETag"], 10),), response_vary=True)
    out = v2models.CORSConfiguration()
    serde.deserialize_xml(body, out, expect_tag="CORSConfiguration")
    assert out.response_vary is True
    assert out.cors_rules[0].allowed_methods == ["GET"]
    assert out.cors_rules[0].max_age_seconds == 10


def test_parse_cors_xml_unknown_method_raises_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as exc:
        parse_cors_xml(_body("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>TEST</AllowedMethod>"))
    assert exc.value.ec == "0034-00000011"


def test_parse_cors_xml_empty_method_raises_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        parse_cors_xml(_body("<AllowedOrigin>*</AllowedOrigin><AllowedMethod></AllowedMethod>"))


def test_parse_cors_xml_eleven_rules_raises_invalid_argument() -> None:
    assert len(parse_cors_xml(_body(OK_RULE, 10))) == 10
    with pytest.raises(InvalidArgument):
        parse_cors_xml(_body(OK_RULE, 11))


def test_parse_cors_xml_no_rule_raises_malformed_xml() -> None:
    with pytest.raises(MalformedXML):
        parse_cors_xml(b"<CORSConfiguration></CORSConfiguration>")


@pytest.mark.parametrize("rule_xml", [
    "<AllowedOrigin>http://*.a.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>",
    "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>**</AllowedHeader>",
    "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>*</ExposeHeader>",
])
def test_parse_cors_xml_bad_wildcards_raise_invalid_argument(rule_xml: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_cors_xml(_body(rule_xml))


@pytest.mark.parametrize("body", [
    b"<NotCors/>",
    b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    b"<MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    b"<Bogus/></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule>",
])
def test_parse_cors_xml_bad_shape_raises_malformed_xml(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        parse_cors_xml(body)


RULES = (
    _rule(["https://app.example"], ["PUT", "POST"], ["x-oss-*", "Content-Type"], ["ETag"], 600),
    _rule(["http://*.sub.example"], ["GET"], ["*"]),
)


def test_preflight_matching_rule_returns_cors_headers() -> None:
    headers = preflight(RULES, origin="https://app.example", method="PUT",
                        request_headers="X-OSS-Meta-A, content-type")
    assert headers == {"Access-Control-Allow-Origin": "https://app.example",
                       "Access-Control-Allow-Methods": "PUT, POST",
                       "Access-Control-Allow-Headers": "x-oss-meta-a, content-type",
                       "Access-Control-Expose-Headers": "ETag",
                       "Access-Control-Max-Age": "600"}


def test_preflight_wildcard_origin_matches_subdomain() -> None:
    headers = preflight(RULES, origin="http://a.b.sub.example", method="GET", request_headers="anything")
    assert headers["Access-Control-Allow-Origin"] == "http://a.b.sub.example"
    assert "Access-Control-Max-Age" not in headers


@pytest.mark.parametrize(("origin", "method", "request_headers"), [
    ("https://evil.example", "PUT", None),          # origin
    ("https://app.example", "DELETE", None),        # method
    ("https://app.example", "PUT", "authorization"),  # header not whitelisted
    ("http://sub.example", "GET", None),            # wildcard needs something before ".sub"
    ("https://app.example.evil", "PUT", None),      # whole-origin match, not prefix
])
def test_preflight_mismatch_raises_access_forbidden(origin: str, method: str,
                                                    request_headers: str | None) -> None:
    with pytest.raises(AccessForbidden) as exc:
        preflight(RULES, origin=origin, method=method, request_headers=request_headers)
    assert exc.value.status == 403
    assert exc.value.message.startswith("CORSResponse: This CORS request is not allowed.")


def test_preflight_regex_metacharacters_in_origin_are_literal() -> None:
    rules = (_rule(["http://a.b+c(d)?.example"], ["GET"]),)
    assert preflight(rules, origin="http://a.b+c(d)?.example", method="GET", request_headers=None)
    with pytest.raises(AccessForbidden):
        preflight(rules, origin="http://aXb+c(d)?.example", method="GET", request_headers=None)
    with pytest.raises(AccessForbidden):
        preflight(rules, origin="http://a.bbc.example", method="GET", request_headers=None)


def test_preflight_no_rules_raises_access_forbidden() -> None:
    with pytest.raises(AccessForbidden):
        preflight((), origin="https://app.example", method="PUT", request_headers=None)


@pytest.mark.parametrize(("origin", "method"), [(None, "PUT"), ("https://app.example", None)])
def test_preflight_missing_origin_or_method_raises_access_forbidden(origin: str | None,
                                                                    method: str | None) -> None:
    with pytest.raises(AccessForbidden):
        preflight(RULES, origin=origin, method=method, request_headers=None)


def test_actual_request_headers_match_returns_headers() -> None:
    headers = actual_request_headers(RULES, origin="https://app.example", method="post")
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Expose-Headers"] == "ETag"


def test_actual_request_headers_mismatch_returns_empty() -> None:
    assert actual_request_headers(RULES, origin="https://app.example", method="GET") == {}
    assert actual_request_headers(RULES, origin=None, method="PUT") == {}
    assert actual_request_headers((), origin="https://app.example", method="PUT") == {}


def test_actual_request_headers_response_vary_always_adds_vary() -> None:
    assert actual_request_headers(RULES, origin=None, method="PUT", vary=True) == {"Vary": "Origin"}
    assert actual_request_headers(RULES, origin="https://app.example", method="PUT", vary=True)["Vary"] == \
        "Origin"
