"""RAM policy grammar, evaluation, authorization and request context (reference §11)."""

from __future__ import annotations

import fnmatch
import json
import random
from typing import Any

import pytest

from helpers.localcloud.identity import Principal
from helpers.localcloud.ram.conditions import glob_regex
from helpers.localcloud.ram.policy import (
    Decision,
    PolicyGrammarError,
    allows,
    evaluate,
    parse_policy,
    request_context,
)

ARN = "acs:oss:*:1234567890123456:"


def pol(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "1", "Statement": list(statements)}


def allow(action: Any = "oss:*", resource: Any = "acs:oss:*:*:*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "oss:*", resource: Any = "acs:oss:*:*:*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def ev(policies: list[dict[str, Any]], action: str = "oss:GetObject", resource: str = ARN + "b/k",
       context: dict[str, Any] | None = None) -> Decision:
    return evaluate(policies, action=action, resource=resource, context=context or {})


def cond(op: str, key: str, value: Any, context: dict[str, Any]) -> Decision:
    return ev([pol(allow(Condition={op: {key: value}}))], context=context)


# ------------------------------------------------------------------------------------------ matching

@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("oss:GetObject", "oss:GetObject", Decision.ALLOW),
    ("oss:GetObject", "oss:GetObjectAcl", Decision.NEUTRAL),
    ("oss:Get*", "oss:GetObjectAcl", Decision.ALLOW),
    ("oss:*", "oss:PutObject", Decision.ALLOW),
    ("*", "oss:PutObject", Decision.ALLOW),
    ("oss:?etObject", "oss:GetObject", Decision.ALLOW),
    ("oss:?etObject", "oss:GGetObject", Decision.NEUTRAL),
    ("oss:*", "sts:AssumeRole", Decision.NEUTRAL),
])
def test_evaluate_action_pattern_matches_expected(pattern: str, action: str, expected: Decision) -> None:
    assert ev([pol(allow(action=pattern))], action=action) is expected


def test_evaluate_action_other_case_allows() -> None:
    assert ev([pol(allow(action="OSS:getobject"))], action="oss:GetObject") is Decision.ALLOW


def test_evaluate_resource_other_case_is_neutral() -> None:
    assert ev([pol(allow(resource="acs:oss:*:*:Bucket/*"))], resource=ARN + "bucket/k") is Decision.NEUTRAL


@pytest.mark.parametrize(("pattern", "resource", "expected"), [
    ("acs:oss:*:*:b", ARN + "b", Decision.ALLOW),
    ("acs:oss:*:*:b", ARN + "b/k", Decision.NEUTRAL),
    ("acs:oss:*:*:b/*", ARN + "b/deep/nested/k", Decision.ALLOW),
    ("acs:oss:*:*:b/*", ARN + "bb/k", Decision.NEUTRAL),
    ("acs:oss:*:*:b/k?", ARN + "b/k1", Decision.ALLOW),
    ("acs:oss:*:*:b/k?", ARN + "b/k12", Decision.NEUTRAL),
    ("acs:oss:*:*:*", "acs:oss:*:*:*", Decision.ALLOW),
    ("acs:oss:cn-hangzhou:*:b/*", "acs:oss:cn-hangzhou:1:b/k", Decision.ALLOW),
    ("acs:oss:cn-hangzhou:*:b/*", "acs:oss:cn-beijing:1:b/k", Decision.NEUTRAL),
    ("*", ARN + "anything", Decision.ALLOW),
])
def test_evaluate_resource_pattern_matches_expected(pattern: str, resource: str, expected: Decision) -> None:
    assert ev([pol(allow(resource=pattern))], resource=resource) is expected


@pytest.mark.parametrize(("pattern", "other"), [
    ("acs:oss:*:*:b/a.b", ARN + "b/aXb"),
    ("acs:oss:*:*:b/a+", ARN + "b/aaa"),
    ("acs:oss:*:*:b/(x|y)", ARN + "b/x"),
    ("acs:oss:*:*:b/[ab]", ARN + "b/a"),
    ("acs:oss:*:*:b/a{2}", ARN + "b/aa"),
    ("acs:oss:*:*:b/^a$", ARN + "b/a"),
    ("acs:oss:*:*:b/a\\d", ARN + "b/a1"),
])
def test_evaluate_regex_metacharacter_in_resource_is_literal(pattern: str, other: str) -> None:
    literal = ARN + pattern.removeprefix("acs:oss:*:*:")
    assert ev([pol(allow(resource=pattern))], resource=literal) is Decision.ALLOW
    assert ev([pol(allow(resource=pattern))], resource=other) is Decision.NEUTRAL


def test_evaluate_regex_metacharacter_in_action_is_literal() -> None:
    assert ev([pol(allow(action="oss:Get.bject"))], action="oss:GetObject") is Decision.NEUTRAL


def test_evaluate_star_in_key_matches_newline() -> None:
    assert ev([pol(allow(resource="acs:oss:*:*:b/*"))], resource=ARN + "b/a\nb") is Decision.ALLOW


def test_glob_match_random_patterns_agree_with_fnmatchcase() -> None:
    # fnmatchcase is an independent oracle for patterns without `[`.
    rng = random.Random(20240601)
    alphabet = "ab./+()*?$^\\|{}"
    for _ in range(3000):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        text = "".join(rng.choice("ab./+()$^\\|{}") for _ in range(rng.randint(0, 6)))
        matched = glob_regex(pattern).fullmatch(text) is not None
        assert matched == fnmatch.fnmatchcase(text, pattern), (pattern, text)


# --------------------------------------------------------------------------------------- effects

def test_evaluate_no_statement_matches_neutral() -> None:
    assert ev([pol(allow(action="oss:PutObject"))]) is Decision.NEUTRAL


def test_evaluate_no_policies_neutral() -> None:
    assert ev([]) is Decision.NEUTRAL


def test_evaluate_deny_in_second_policy_beats_allow_in_first() -> None:
    policies = [pol(allow()), pol(deny(action="oss:GetObject", resource="acs:oss:*:*:b/k"))]
    assert ev(policies) is Decision.DENY


def test_evaluate_deny_before_allow_in_one_policy_denies() -> None:
    assert ev([pol(deny(), allow())]) is Decision.DENY


def test_evaluate_deny_for_other_resource_does_not_block() -> None:
    assert ev([pol(allow(), deny(resource="acs:oss:*:*:other/*"))]) is Decision.ALLOW


def test_evaluate_not_action_allows_everything_else() -> None:
    p = pol({"Effect": "Allow", "NotAction": "oss:Delete*", "Resource": "*"})
    assert ev([p], action="oss:PutObject") is Decision.ALLOW
    assert ev([p], action="oss:DeleteObject") is Decision.NEUTRAL


def test_evaluate_not_resource_deny_fences_outside_prefix() -> None:
    p = pol(allow(), {"Effect": "Deny", "Action": "oss:*", "NotResource": "acs:oss:*:*:b/public/*"})
    assert ev([p], resource=ARN + "b/public/x") is Decision.ALLOW
    assert ev([p], resource=ARN + "b/private/x") is Decision.DENY


def test_evaluate_single_statement_object_allows() -> None:
    assert ev([{"Version": "1", "Statement": allow()}]) is Decision.ALLOW


def test_evaluate_action_list_matches_any() -> None:
    p = pol(allow(action=["oss:PutObject", "oss:GetObject"]))
    assert ev([p], action="oss:GetObject") is Decision.ALLOW


# ------------------------------------------------------------------------------------- conditions

STRING_CASES = [
    # operator, policy value, context value (None = key absent), expected
    ("StringEquals", "alice", "alice", Decision.ALLOW),
    ("StringEquals", "alice", "Alice", Decision.NEUTRAL),
    ("StringEquals", ["bob", "alice"], "alice", Decision.ALLOW),
    ("StringEquals", "alice", None, Decision.NEUTRAL),
    ("StringNotEquals", "alice", "bob", Decision.ALLOW),
    ("StringNotEquals", "alice", "alice", Decision.NEUTRAL),
    ("StringNotEquals", ["alice", "bob"], "bob", Decision.NEUTRAL),
    ("StringNotEquals", "alice", None, Decision.ALLOW),
    ("StringEqualsIgnoreCase", "ALICE", "alice", Decision.ALLOW),
    ("StringEqualsIgnoreCase", "alice", "bob", Decision.NEUTRAL),
    ("StringEqualsIgnoreCase", "alice", None, Decision.NEUTRAL),
    ("StringNotEqualsIgnoreCase", "ALICE", "alice", Decision.NEUTRAL),
    ("StringNotEqualsIgnoreCase", "alice", "bob", Decision.ALLOW),
    ("StringNotEqualsIgnoreCase", "alice", None, Decision.ALLOW),
    ("StringLike", "users/alice/*", "users/alice/a/b", Decision.ALLOW),
    ("StringLike", "users/alice/*", "users/alicex/a", Decision.NEUTRAL),
    ("StringLike", "users/alice/*", "Users/alice/a", Decision.NEUTRAL),
    ("StringLike", "v?", "v1", Decision.ALLOW),
    ("StringLike", "a.c", "abc", Decision.NEUTRAL),
    ("StringLike", "users/alice/*", None, Decision.NEUTRAL),
    ("StringNotLike", "users/alice/*", "users/bob/x", Decision.ALLOW),
    ("StringNotLike", "users/alice/*", "users/alice/x", Decision.NEUTRAL),
    ("StringNotLike", "users/alice/*", None, Decision.ALLOW),
]


@pytest.mark.parametrize(("op", "value", "got", "expected"), STRING_CASES)
def test_condition_string_operator_decides(op: str, value: Any, got: str | None, expected: Decision) -> None:
    assert cond(op, "oss:Prefix", value, {} if got is None else {"oss:Prefix": got}) is expected


NUMERIC_CASES = [
    ("NumericEquals", 10, "10", Decision.ALLOW),
    ("NumericEquals", "10", "10.0", Decision.ALLOW),
    ("NumericEquals", 10, "11", Decision.NEUTRAL),
    ("NumericNotEquals", 10, "11", Decision.ALLOW),
    ("NumericNotEquals", 10, "10", Decision.NEUTRAL),
    ("NumericNotEquals", 10, None, Decision.ALLOW),
    ("NumericLessThan", 10, "9", Decision.ALLOW),
    ("NumericLessThan", 10, "10", Decision.NEUTRAL),
    ("NumericLessThanEquals", 10, "10", Decision.ALLOW),
    ("NumericLessThanEquals", 10, "11", Decision.NEUTRAL),
    ("NumericGreaterThan", 10, "11", Decision.ALLOW),
    ("NumericGreaterThan", 10, "10", Decision.NEUTRAL),
    ("NumericGreaterThanEquals", 10, "10", Decision.ALLOW),
    ("NumericGreaterThanEquals", 10, "9.5", Decision.NEUTRAL),
    ("NumericGreaterThanEquals", 10, None, Decision.NEUTRAL),
    ("NumericEquals", 10, "ten", Decision.NEUTRAL),
]


@pytest.mark.parametrize(("op", "value", "got", "expected"), NUMERIC_CASES)
def test_condition_numeric_operator_decides(op: str, value: Any, got: str | None, expected: Decision) -> None:
    assert cond(op, "oss:max-keys", value, {} if got is None else {"oss:max-keys": got}) is expected


DATE_CASES = [
    ("DateEquals", "2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z", Decision.ALLOW),
    ("DateEquals", "2024-06-01T20:00:00+08:00", "2024-06-01T12:00:00Z", Decision.ALLOW),
    ("DateEquals", "1717243200", "2024-06-01T12:00:00Z", Decision.ALLOW),
    ("DateEquals", 1717243200, "2024-06-01T12:00:00Z", Decision.ALLOW),
    ("DateNotEquals", "2024-06-01T12:00:00Z", "2024-06-01T12:00:01Z", Decision.ALLOW),
    ("DateNotEquals", "2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z", Decision.NEUTRAL),
    ("DateNotEquals", "2024-06-01T12:00:00Z", None, Decision.ALLOW),
    ("DateLessThan", "2024-06-01T12:00:00Z", "2024-06-01T11:59:59Z", Decision.ALLOW),
    ("DateLessThan", "2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z", Decision.NEUTRAL),
    ("DateLessThanEquals", "2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z", Decision.ALLOW),
    ("DateGreaterThan", "2024-06-01T12:00:00Z", "2024-06-01T12:00:01Z", Decision.ALLOW),
    ("DateGreaterThan", "2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z", Decision.NEUTRAL),
    ("DateGreaterThanEquals", "2024-06-01", "2024-06-01T00:00:00Z", Decision.ALLOW),
    ("DateGreaterThanEquals", "2024-06-01T12:00:00Z", "2024-05-31T12:00:00Z", Decision.NEUTRAL),
    ("DateLessThan", "2024-06-01T12:00:00Z", None, Decision.NEUTRAL),
    ("DateLessThan", "2024-06-01T12:00:00Z", "yesterday", Decision.NEUTRAL),
]


@pytest.mark.parametrize(("op", "value", "got", "expected"), DATE_CASES)
def test_condition_date_operator_decides(op: str, value: Any, got: str | None, expected: Decision) -> None:
    ctx = {} if got is None else {"acs:CurrentTime": got}
    assert cond(op, "acs:CurrentTime", value, ctx) is expected


def test_condition_current_time_window_allows_only_inside() -> None:
    window = {"DateGreaterThanEquals": {"acs:CurrentTime": "2024-06-01T00:00:00Z"},
              "DateLessThan": {"acs:CurrentTime": "2024-06-02T00:00:00Z"}}
    p = [pol(allow(Condition=window))]

    def at(epoch: float) -> Decision:
        return ev(p, context=request_context(source_ip="127.0.0.1", now=epoch, secure=False,
                                             user_agent=None, access_key_id=None))
    assert at(1717200000) is Decision.ALLOW           # 2024-06-01T00:00:00Z
    assert at(1717286399) is Decision.ALLOW           # 2024-06-01T23:59:59Z
    assert at(1717286400) is Decision.NEUTRAL         # 2024-06-02T00:00:00Z
    assert at(1717199999) is Decision.NEUTRAL         # 2024-05-31T23:59:59Z


@pytest.mark.parametrize(("value", "got", "expected"), [
    ("true", "true", Decision.ALLOW),
    (True, "true", Decision.ALLOW),
    ("TRUE", "true", Decision.ALLOW),
    ("true", "false", Decision.NEUTRAL),
    (False, "false", Decision.ALLOW),
    ("true", None, Decision.NEUTRAL),
])
def test_condition_bool_decides(value: Any, got: str | None, expected: Decision) -> None:
    ctx = {} if got is None else {"acs:SecureTransport": got}
    assert cond("Bool", "acs:SecureTransport", value, ctx) is expected


IP_CASES = [
    ("IpAddress", "10.0.0.0/8", "10.1.2.3", Decision.ALLOW),
    ("IpAddress", "10.0.0.0/8", "11.1.2.3", Decision.NEUTRAL),
    ("IpAddress", "192.168.1.7", "192.168.1.7", Decision.ALLOW),
    ("IpAddress", "192.168.1.7", "192.168.1.8", Decision.NEUTRAL),
    ("IpAddress", ["172.16.0.0/12", "127.0.0.1"], "127.0.0.1", Decision.ALLOW),
    ("IpAddress", "10.0.0.0/8", "::ffff:10.0.0.1", Decision.ALLOW),
    ("IpAddress", "2001:db8::/32", "2001:db8:1::5", Decision.ALLOW),
    ("IpAddress", "2001:db8::/32", "2001:db9::5", Decision.NEUTRAL),
    ("IpAddress", "2001:db8::/32", "10.0.0.1", Decision.NEUTRAL),
    ("IpAddress", "10.0.0.0/8", "not-an-ip", Decision.NEUTRAL),
    ("IpAddress", "10.0.0.0/8", None, Decision.NEUTRAL),
    ("NotIpAddress", "10.0.0.0/8", "11.0.0.1", Decision.ALLOW),
    ("NotIpAddress", "10.0.0.0/8", "10.0.0.1", Decision.NEUTRAL),
    ("NotIpAddress", "::1/128", "::1", Decision.NEUTRAL),
    ("NotIpAddress", "10.0.0.0/8", None, Decision.ALLOW),
]


@pytest.mark.parametrize(("op", "value", "got", "expected"), IP_CASES)
def test_condition_ip_operator_decides(op: str, value: Any, got: str | None, expected: Decision) -> None:
    assert cond(op, "acs:SourceIp", value, {} if got is None else {"acs:SourceIp": got}) is expected


def test_condition_key_case_insensitive_allows() -> None:
    assert cond("IpAddress", "acs:SourceIp", "127.0.0.1", {"ACS:SOURCEIP": "127.0.0.1"}) is Decision.ALLOW
    assert cond("IpAddress", "acs:sourceip", "127.0.0.1", {"acs:SourceIp": "127.0.0.1"}) is Decision.ALLOW


def test_condition_operators_and_keys_are_anded() -> None:
    block = {"StringEquals": {"acs:AccessId": "AK1", "acs:UserAgent": "ua"},
             "IpAddress": {"acs:SourceIp": "127.0.0.0/8"}}
    p = [pol(allow(Condition=block))]
    full = {"acs:AccessId": "AK1", "acs:UserAgent": "ua", "acs:SourceIp": "127.0.0.1"}
    assert ev(p, context=full) is Decision.ALLOW
    assert ev(p, context={**full, "acs:UserAgent": "other"}) is Decision.NEUTRAL
    assert ev(p, context={**full, "acs:SourceIp": "10.0.0.1"}) is Decision.NEUTRAL


def test_condition_multivalued_context_matches_any() -> None:
    assert cond("StringEquals", "oss:tag", "x", {"oss:tag": ["a", "x"]}) is Decision.ALLOW


def test_condition_deny_with_negated_ip_denies_outside_range() -> None:
    p = [pol(allow(), deny(Condition={"NotIpAddress": {"acs:SourceIp": "127.0.0.0/8"}}))]
    assert ev(p, context={"acs:SourceIp": "127.0.0.1"}) is Decision.ALLOW
    assert ev(p, context={"acs:SourceIp": "192.0.2.1"}) is Decision.DENY
    assert ev(p, context={}) is Decision.DENY


def test_condition_list_prefix_without_prefix_is_refused() -> None:
    p = [pol(allow(action="oss:ListObjects", resource="acs:oss:*:*:b",
                   Condition={"StringLike": {"oss:Prefix": "users/alice/*"}}))]
    base = dict(source_ip="127.0.0.1", now=0.0, secure=False, user_agent=None, access_key_id=None)

    def listing(prefix: str | None) -> Decision:
        ctx = request_context(**base, extra={"oss:Prefix": prefix or "", "oss:Delimiter": "/"})
        return ev(p, action="oss:ListObjects", resource=ARN + "b", context=ctx)
    assert listing("users/alice/") is Decision.ALLOW
    assert listing(None) is Decision.NEUTRAL
    assert listing("users/") is Decision.NEUTRAL


# ----------------------------------------------------------------------------------------- grammar

@pytest.mark.parametrize(("doc", "reason"), [
    ({"Version": "2", "Statement": [allow()]}, "Version"),
    ({"Version": 1, "Statement": [allow()]}, "Version"),
    ({"Statement": [allow()]}, "Version"),
    ({"Version": "1"}, "Statement"),
    ({"Version": "1", "Statement": []}, "Statement"),
    ({"Version": "1", "Statement": [allow()], "Id": "x"}, "Id"),
    (pol({"Action": "oss:*", "Resource": "*"}), "Effect"),
    (pol(allow() | {"Effect": "allow"}), "Effect"),
    (pol({"Effect": "Allow", "Resource": "*"}), "Action"),
    (pol({"Effect": "Allow", "Action": "oss:*"}), "Resource"),
    (pol(allow(NotAction="oss:Get*")), "both"),
    (pol(allow(action=[])), "empty"),
    (pol(allow(action="GetObject")), "action"),
    (pol(allow(action=5)), "Action"),
    (pol(allow(resource="bucket/*")), "resource"),
    (pol(allow(Sid="one")), "Sid"),
    (pol(allow(Principal={"RAM": ["acs:ram::1:root"]})), "Principal"),
    (pol(allow(Condition={"StringEqualz": {"acs:SourceIp": "x"}})), "StringEqualz"),
    (pol(allow(Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/33"}})), "IpAddress"),
    (pol(allow(Condition={"NumericEquals": {"oss:max-keys": "ten"}})), "NumericEquals"),
    (pol(allow(Condition={"DateLessThan": {"acs:CurrentTime": "tomorrow"}})), "DateLessThan"),
    (pol(allow(Condition={"Bool": {"acs:SecureTransport": "yes"}})), "Bool"),
    (pol(allow(Condition={"StringEquals": {"oss:Prefix": None}})), "values"),
    (pol(allow(Condition={"StringEquals": {"oss:Prefix": {"a": "b"}}})), "values"),
    (pol(allow(Condition={"StringEquals": {"oss:Prefix": []}})), "values"),
    (pol(allow(Condition={"StringEquals": {}})), "StringEquals"),
    (pol(allow(Condition=["x"])), "Condition"),
    (pol("not a statement"), "statement"),
])
def test_parse_policy_bad_grammar_raises(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(PolicyGrammarError, match=reason):
        parse_policy(doc)


def test_parse_policy_bad_json_raises() -> None:
    with pytest.raises(PolicyGrammarError, match="JSON"):
        parse_policy('{"Version": "1",')


def test_parse_policy_json_array_raises() -> None:
    with pytest.raises(PolicyGrammarError, match="object"):
        parse_policy("[]")


def test_parse_policy_text_returns_document() -> None:
    doc = pol(allow(Condition={"StringLike": {"oss:Prefix": ["a/*", "b/*"]},
                               "NumericLessThan": {"oss:max-keys": 100}}))
    assert parse_policy(json.dumps(doc)) == doc


def test_parse_policy_principal_in_trust_policy_accepted() -> None:
    doc = pol({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1:root"]}})
    assert parse_policy(doc, allow_principal=True) == doc


def test_parse_policy_unknown_principal_kind_raises() -> None:
    doc = pol({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "x"}})
    with pytest.raises(PolicyGrammarError, match="AWS"):
        parse_policy(doc, allow_principal=True)


def test_evaluate_malformed_policy_raises() -> None:
    with pytest.raises(PolicyGrammarError):
        ev([{"Version": "1", "Statement": [{"Effect": "Allow"}]}])


# --------------------------------------------------------------------------------------- authorize

ALICE_SESSION = pol(allow(action=["oss:GetObject", "oss:PutObject"], resource="acs:oss:*:*:b/users/alice/*"))
ROLE = pol(allow(resource=["acs:oss:*:*:b", "acs:oss:*:*:b/*"]))


def sts(policies: tuple[dict[str, Any], ...] = (ROLE,), session: dict[str, Any] | None = ALICE_SESSION,
        ) -> Principal:
    return Principal(kind="sts", account_id="1", access_key_id="STS.x", policies=policies,
                     session_policy=session)


def check(principal: Principal, key: str, action: str = "oss:PutObject") -> bool:
    return allows(principal, action=action, resource=ARN + "b/" + key, context={})


def test_authorize_account_allows_without_policies() -> None:
    assert check(Principal(kind="account", account_id="1"), "anything")


def test_authorize_anonymous_is_never_allowed_by_policy() -> None:
    # The refusal's wire form is each port's (OSS: AccessDenied "Access denied by authorizer's policy.").
    assert not allows(Principal(kind="anonymous"), action="oss:GetObject", resource=ARN + "b/k", context={})


def test_authorize_ram_user_follows_its_policies() -> None:
    user = Principal(kind="ram_user", account_id="1", policies=(ROLE,))
    assert check(user, "k")
    assert not check(Principal(kind="ram_user", account_id="1"), "k")


@pytest.mark.parametrize(("key", "expected"), [
    ("users/alice/x", True),
    ("users/alice/deep/x", True),
    ("users/bob/x", False),
    ("users/alicex/y", False),
    ("users/alice", False),
    ("users/Alice/x", False),
])
def test_authorize_session_policy_confines_to_prefix(key: str, expected: bool) -> None:
    assert check(sts(), key) is expected


def test_authorize_session_narrower_than_role_limits_actions() -> None:
    assert check(sts(), "users/alice/x", action="oss:GetObject")
    assert not check(sts(), "users/alice/x", action="oss:DeleteObject")


def test_authorize_session_broader_than_role_still_limited_by_role() -> None:
    role = pol(allow(action="oss:GetObject", resource="acs:oss:*:*:b/users/*"))
    broad = pol(allow())
    assert check(sts((role,), broad), "users/alice/x", action="oss:GetObject")
    assert not check(sts((role,), broad), "users/alice/x", action="oss:PutObject")
    assert not check(sts((role,), broad), "public/x", action="oss:GetObject")


def test_authorize_sts_without_session_policy_uses_role() -> None:
    assert check(sts(session=None), "users/bob/x")


def test_authorize_deny_in_session_policy_denies() -> None:
    session = pol(allow(), deny(action="oss:PutObject", resource="acs:oss:*:*:b/users/alice/ro/*"))
    assert check(sts(session=session), "users/alice/rw/x")
    assert not check(sts(session=session), "users/alice/ro/x")


def test_authorize_deny_in_role_policy_denies_despite_session_allow() -> None:
    role = pol(allow(), deny(resource="acs:oss:*:*:b/secret/*"))
    assert not check(sts((role,), pol(allow())), "secret/x")


def test_authorize_empty_role_policies_denies() -> None:
    assert not check(sts(policies=(), session=pol(allow())), "users/alice/x")


# ------------------------------------------------------------------------------------ request context

def test_request_context_builds_standard_keys() -> None:
    ctx = request_context(source_ip="192.0.2.9", now=1717243200.7, secure=True, user_agent="ua/1",
                          access_key_id="STS.abc", extra={"oss:Prefix": ""})
    assert ctx == {"acs:SourceIp": "192.0.2.9", "acs:CurrentTime": "2024-06-01T12:00:00Z",
                   "acs:SecureTransport": "true", "acs:UserAgent": "ua/1", "acs:AccessId": "STS.abc",
                   "oss:Prefix": ""}


def test_request_context_absent_facts_left_out() -> None:
    ctx = request_context(source_ip="::1", now=0, secure=False, user_agent=None, access_key_id=None)
    assert ctx == {"acs:SourceIp": "::1", "acs:CurrentTime": "1970-01-01T00:00:00Z",
                   "acs:SecureTransport": "false"}


def test_request_context_secure_transport_condition_refuses_http() -> None:
    p = [pol(allow(Condition={"Bool": {"acs:SecureTransport": "true"}}))]
    http = request_context(source_ip="::1", now=0, secure=False, user_agent=None, access_key_id=None)
    https = request_context(source_ip="::1", now=0, secure=True, user_agent=None, access_key_id=None)
    assert ev(p, context=http) is Decision.NEUTRAL
    assert ev(p, context=https) is Decision.ALLOW


def test_condition_none_context_value_counts_as_absent() -> None:
    assert cond("StringEquals", "acs:UserAgent", "ua", {"acs:UserAgent": None}) is Decision.NEUTRAL
    assert cond("StringNotEquals", "acs:UserAgent", "ua", {"acs:UserAgent": None}) is Decision.ALLOW
