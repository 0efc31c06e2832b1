"""Role trust policies: which identities may assume a role."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.localcloud.accounts import new_credentials
from helpers.localcloud.ram.policy import PolicyGrammarError
from helpers.localcloud.ram.trust import trusts

ACCT = "1234567890123456"
USER = f"acs:ram::{ACCT}:user/appserver"


def trust(*principals: Any, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Version": "1", "Statement": [
        {"Effect": effect, "Action": "sts:AssumeRole", "Principal": p, **extra} for p in principals]}


def ok(policy: dict[str, Any], caller: str = USER, account: str = ACCT, **kw: Any) -> bool:
    return trusts(policy, caller_arn=caller, caller_account_id=account, **kw)


def test_trusts_account_root_trusts_user_of_that_account() -> None:
    assert ok(trust({"RAM": [f"acs:ram::{ACCT}:root"]}))


def test_trusts_account_root_refuses_user_of_other_account() -> None:
    assert not ok(trust({"RAM": ["acs:ram::999:root"]}))
    assert not ok(trust({"RAM": [f"acs:ram::{ACCT}:root"]}), caller="acs:ram::999:user/appserver",
                  account="999")


def test_trusts_named_user_trusts_only_that_user() -> None:
    policy = trust({"RAM": f"acs:ram::{ACCT}:user/appserver"})
    assert ok(policy)
    assert ok(policy, caller=f"acs:ram::{ACCT}:user/AppServer")   # RAM names are case-insensitive
    assert not ok(policy, caller=f"acs:ram::{ACCT}:user/other")
    assert not ok(policy, caller=f"acs:ram::{ACCT}:user/appserverx")


def test_trusts_star_principal_trusts_anyone() -> None:
    assert ok(trust("*"))
    assert ok(trust({"RAM": "*"}))


def test_trusts_service_principal_refuses_user() -> None:
    assert not ok(trust({"Service": ["ecs.aliyuncs.com"]}))


def test_trusts_role_principal_trusts_its_sessions() -> None:
    policy = trust({"RAM": f"acs:ram::{ACCT}:role/chain"})
    assert ok(policy, caller=f"acs:ram::{ACCT}:assumed-role/chain/s1")
    assert not ok(policy, caller=f"acs:ram::{ACCT}:assumed-role/chainx/s1")
    assert not ok(policy)


def test_trusts_deny_statement_wins() -> None:
    policy = trust({"RAM": [f"acs:ram::{ACCT}:root"]})
    policy["Statement"].append({"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"RAM": USER}})
    assert not ok(policy)
    assert ok(policy, caller=f"acs:ram::{ACCT}:user/other")


def test_trusts_other_action_refuses() -> None:
    policy = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Principal": "*"}]}
    assert not ok(policy)


def test_trusts_external_id_condition_checked() -> None:
    policy = trust({"RAM": [f"acs:ram::{ACCT}:root"]},
                   Condition={"StringEquals": {"sts:ExternalId": "abc"}})
    assert ok(policy, context={"sts:ExternalId": "abc"})
    assert not ok(policy, context={"sts:ExternalId": "abd"})
    assert not ok(policy)


def test_trusts_statement_without_principal_refuses() -> None:
    policy = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    assert not ok(policy)


def test_trusts_malformed_policy_raises() -> None:
    with pytest.raises(PolicyGrammarError):
        ok({"Version": "1", "Statement": [{"Effect": "Allow", "Principal": "*"}]})


def test_trusts_generated_credentials_role_trusts_appserver() -> None:
    doc = new_credentials()
    role = doc["ram"]["roles"]["workbook-uploader"]
    acct = doc["account_id"]
    assert trusts(role["trust_policy"], caller_arn=f"acs:ram::{acct}:user/appserver", caller_account_id=acct)
    assert not trusts(role["trust_policy"], caller_arn="acs:ram::42:user/appserver", caller_account_id="42")
