"""Bucket CORS: PutBucketCors body validation, GetBucketCors body, preflight and actual-request headers.

A rule is a plain dict with keys `allowed_origins`, `allowed_methods`, `allowed_headers`, `expose_headers`
(lists of str) and `max_age_seconds` (int or None); element names follow oss2 `xml_utils.to_put_bucket_cors`
and alibabacloud_oss_v2 `models.bucket_cors.CORSRule`. The configuration-level ResponseVary flag travels
with the stored rules: `parse_cors_xml` copies it into every rule as `response_vary` (only when the body
set it), and the readers below take it from there unless told otherwise.

Matching follows the OSS PutBucketCors page ("CORS rule matching"): the first rule whose AllowedOrigin,
AllowedMethod and every Access-Control-Request-Headers entry match wins.

This module imports nothing from Starlette; XML goes through `helpers.localcloud.xml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from helpers.localcloud import xml
from helpers.localcloud.errors import AccessForbidden, InvalidArgument, MalformedXML

# PutBucketCors limits [doc: PutBucketCors, EC 0034-00000011 for methods].
MAX_RULES = 10
ALLOWED_METHODS = ("GET", "PUT", "DELETE", "POST", "HEAD")
_RULE_LISTS = {"AllowedOrigin": "allowed_origins", "AllowedMethod": "allowed_methods",
               "AllowedHeader": "allowed_headers", "ExposeHeader": "expose_headers"}

Rule = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CorsConfig:
    """A parsed CORSConfiguration: the rules in order plus the optional ResponseVary flag."""

    rules: tuple[Rule, ...]
    response_vary: bool | None = None


def parse_cors_config(body: bytes) -> CorsConfig:
    """Validate a PutBucketCors body; MalformedXML / InvalidArgument on anything OSS would refuse."""
    root = xml.parse(body)
    if root.tag != "CORSConfiguration":
        raise MalformedXML()
    rules: list[Rule] = []
    response_vary: bool | None = None
    for child in root:
        if child.tag == "CORSRule":
            rules.append(_parse_rule(child))
        elif child.tag == "ResponseVary":
            text = (child.text or "").strip().lower()
            if text not in ("true", "false") or response_vary is not None:
                raise MalformedXML()
            response_vary = text == "true"
        else:
            raise MalformedXML()
    if not rules:
        # A configuration without rules has no effect [doc: EC 0034-00000002].
        raise MalformedXML(ec="0034-00000002")
    if len(rules) > MAX_RULES:
        raise InvalidArgument(f"The number of CORS rules should not exceed allowed limit of {MAX_RULES}.")
    return CorsConfig(tuple(rules), response_vary)


def parse_cors_xml(body: bytes) -> tuple[Rule, ...]:
    """The rules of a PutBucketCors body as the store keeps them: ResponseVary, when given, is stored in
    each rule as `response_vary` (the store holds only a tuple of rules per bucket)."""
    config = parse_cors_config(body)
    if config.response_vary is None:
        return config.rules
    return tuple({**rule, "response_vary": config.response_vary} for rule in config.rules)


def stored_response_vary(rules: Sequence[Mapping[str, Any]]) -> bool | None:
    """The ResponseVary flag kept with stored rules (None when the configuration did not set it)."""
    return rules[0].get("response_vary") if rules else None


def _parse_rule(el: Any) -> Rule:
    rule: Rule = {name: [] for name in _RULE_LISTS.values()}
    rule["max_age_seconds"] = None
    for child in el:
        text = (child.text or "").strip()
        if child.tag in _RULE_LISTS:
            rule[_RULE_LISTS[child.tag]].append(text)
        elif child.tag == "MaxAgeSeconds":
            if rule["max_age_seconds"] is not None or not text.isdigit():
                raise MalformedXML()
            rule["max_age_seconds"] = int(text)
        else:
            raise MalformedXML()
    if not rule["allowed_origins"] or not rule["allowed_methods"]:
        raise MalformedXML()
    for method in rule["allowed_methods"]:
        if method not in ALLOWED_METHODS:
            raise InvalidArgument(f"Found unsupported HTTP method in CORS config. Unsupported method is "
                                  f"{method}.", ec="0034-00000011")
    for origin in rule["allowed_origins"]:
        if not origin or origin.count("*") > 1:
            raise InvalidArgument(f'AllowedOrigin "{origin}" can not have more than one wildcard.')
    for header in rule["allowed_headers"]:
        if not header or header.count("*") > 1:
            raise InvalidArgument(f'AllowedHeader "{header}" can not have more than one wildcard.')
    for header in rule["expose_headers"]:
        if not header or "*" in header:
            raise InvalidArgument(f'ExposeHeader "{header}" contains wildcard. We currently do not support '
                                  f'wildcard for ExposeHeader.')
    return rule


def cors_xml(rules: Sequence[Mapping[str, Any]], *, response_vary: bool | None = None) -> bytes:
    """The GetBucketCors body. The caller raises NoSuchCORSConfiguration when there are no rules.
    `response_vary=None` takes the flag stored with the rules."""
    if response_vary is None:
        response_vary = stored_response_vary(rules)
    children: list[tuple[str, xml.Value]] = []
    for rule in rules:
        items: list[tuple[str, xml.Value]] = []
        for tag, name in _RULE_LISTS.items():
            values = rule.get(name) or ()
            if tag == "AllowedHeader":
                # OSS answers AllowedHeader lowercased (`*` unchanged) [IT v2py-it test_bucket_cors_client].
                values = [v.lower() for v in values]
            items.extend((tag, value) for value in values)
        items.append(("MaxAgeSeconds", rule.get("max_age_seconds")))
        children.append(("CORSRule", items))
    children.append(("ResponseVary", response_vary))
    return xml.build("CORSConfiguration", children)


@lru_cache(maxsize=512)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # Escape everything, then let each `*` match any run (moto's unescaped replace is the bug to avoid).
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(body, flags)


def _matches(pattern: str, value: str, *, ignore_case: bool) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _split_headers(value: str | None) -> list[str]:
    return [h.strip().lower() for h in (value or "").split(",") if h.strip()]


def _match(rules: Iterable[Mapping[str, Any]], origin: str, method: str,
           request_headers: Sequence[str]) -> Mapping[str, Any] | None:
    for rule in rules:
        if not any(_matches(p, origin, ignore_case=False) for p in rule.get("allowed_origins") or ()):
            continue
        if method not in (rule.get("allowed_methods") or ()):
            continue
        allowed = rule.get("allowed_headers") or ()
        if all(any(_matches(p, h, ignore_case=True) for p in allowed) for h in request_headers):
            return rule
    return None


def _common_headers(rule: Mapping[str, Any], origin: str, vary: bool) -> dict[str, str]:
    headers = {"Access-Control-Allow-Origin": origin,
               "Access-Control-Allow-Methods": ", ".join(rule.get("allowed_methods") or ())}
    if rule.get("expose_headers"):
        headers["Access-Control-Expose-Headers"] = ", ".join(rule["expose_headers"])
    if rule.get("max_age_seconds") is not None:
        headers["Access-Control-Max-Age"] = str(rule["max_age_seconds"])
    if vary:
        headers["Vary"] = "Origin"
    return headers


def preflight(rules: Sequence[Mapping[str, Any]], *, origin: str | None, method: str | None,
              request_headers: str | None, vary: bool | None = None) -> dict[str, str]:
    """Headers for an OPTIONS preflight; 403 AccessForbidden when no rule matches or CORS is off.

    OSS documents 403 for both "not allowed" and "CORS not enabled" [doc: Options]. Origin and
    Access-Control-Request-Method are required headers there; a preflight without them can match no
    rule, so it gets the same 403 (the real status for that case is unverified). `vary=None` takes the
    stored ResponseVary; when true, `Vary: Origin` is sent whether or not the request is allowed
    [doc: PutBucketCors, ResponseVary].
    """
    if vary is None:
        vary = bool(stored_response_vary(rules))
    refused = {"Vary": "Origin"} if vary else None
    if not rules or not origin or not method:
        raise AccessForbidden(headers=refused)
    wanted = _split_headers(request_headers)
    rule = _match(rules, origin, method, wanted)
    if rule is None:
        raise AccessForbidden(headers=refused)
    headers = _common_headers(rule, origin, vary)
    if wanted:
        headers["Access-Control-Allow-Headers"] = ", ".join(wanted)
    return headers


def actual_request_headers(rules: Sequence[Mapping[str, Any]], *, origin: str | None, method: str,
                           vary: bool | None = None) -> dict[str, str]:
    """CORS headers for a normal response: the matching rule's headers when the request carries an
    allowed Origin, plus `Vary: Origin` on every response when ResponseVary is true (`vary=None` takes
    the stored flag); {} otherwise."""
    if vary is None:
        vary = bool(stored_response_vary(rules))
    if not rules or not origin:
        return {"Vary": "Origin"} if vary else {}
    rule = _match(rules, origin, method.upper(), ())
    if rule is None:
        return {"Vary": "Origin"} if vary else {}
    return _common_headers(rule, origin, vary)
