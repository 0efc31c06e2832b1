"""`identity.resolve`: every reason an AccessKey or token names no caller, the expiry boundary, and the
per-port tables that turn a reason into a wire error (OSS `oss.auth`, STS/RAM `sts.authn`)."""

from __future__ import annotations

import json
import os

import pytest

from helpers.localcloud.accounts import Accounts, new_credentials
from helpers.localcloud.identity import IdentityError, Reason, resolve
from helpers.localcloud.oss import credentials as oss_credentials
from helpers.localcloud.ram import state as ram
from helpers.localcloud.sts import authn as sts_authn
from helpers.localcloud.tokens import TemporaryCredentials, TokenAuthority

EXPIRATION = 2_000_000_000


@pytest.fixture()
def accounts() -> Accounts:
    return Accounts(new_credentials(bucket="workbook"))


@pytest.fixture()
def tokens() -> TokenAuthority:
    return TokenAuthority(os.urandom(32))


def _mint(accounts: Accounts, tokens: TokenAuthority, policy: str | None = None) -> TemporaryCredentials:
    role = next(iter(accounts.roles.values()))
    return tokens.mint(account_id=accounts.account_id, role_arn=role.arn, role_id=role.role_id,
                       session_name="alice", expiration=EXPIRATION, session_policy=policy)


def _reason(ak: str, token: str | None, now: float, accounts: Accounts, tokens: TokenAuthority) -> Reason:
    with pytest.raises(IdentityError) as info:
        resolve(ak, token, now, accounts=accounts, tokens=tokens)
    return info.value.reason


def test_long_term_keys_resolve_to_their_kind(accounts: Accounts, tokens: TokenAuthority) -> None:
    root = accounts.ram.data.root_keys[0]
    who = resolve(root.access_key_id, None, 0, accounts=accounts, tokens=tokens)
    assert (who.principal.kind, who.secret, who.claims) == ("account", root.secret, None)
    user = accounts.ram.data.users["appserver"]
    who = resolve(user.access_keys[0].access_key_id, None, 0, accounts=accounts, tokens=tokens)
    assert (who.principal.kind, who.user_name) == ("ram_user", "appserver")


def test_unknown_and_inactive_keys(accounts: Accounts, tokens: TokenAuthority) -> None:
    assert _reason("LTAInope", None, 0, accounts, tokens) is Reason.UNKNOWN_KEY
    key = accounts.ram.data.users["appserver"].access_keys[0]
    key.status = "Inactive"
    assert _reason(key.access_key_id, None, 0, accounts, tokens) is Reason.KEY_DISABLED


def test_token_reasons(accounts: Accounts, tokens: TokenAuthority) -> None:
    a, b = _mint(accounts, tokens), _mint(accounts, tokens)
    now = EXPIRATION - 10
    assert _reason(a.access_key_id, None, now, accounts, tokens) is Reason.TOKEN_MISSING
    assert _reason(a.access_key_id, "", now, accounts, tokens) is Reason.TOKEN_MISSING
    assert _reason(a.access_key_id, b.security_token, now, accounts, tokens) is Reason.TOKEN_MISMATCH
    forged = a.security_token[:-8] + "AAAAAAA="
    assert _reason(a.access_key_id, forged, now, accounts, tokens) is Reason.TOKEN_INVALID
    assert _reason(a.access_key_id, "not a token", now, accounts, tokens) is Reason.TOKEN_INVALID
    other_key = TokenAuthority(os.urandom(32))
    assert _reason(a.access_key_id, a.security_token, now, accounts, other_key) is Reason.TOKEN_INVALID


def test_token_valid_through_its_expiration_second(accounts: Accounts, tokens: TokenAuthority) -> None:
    cred = _mint(accounts, tokens)
    who = resolve(cred.access_key_id, cred.security_token, EXPIRATION, accounts=accounts, tokens=tokens)
    assert who.principal.kind == "sts" and who.claims is not None
    assert who.secret == cred.access_key_secret
    assert (_reason(cred.access_key_id, cred.security_token, EXPIRATION + 0.001, accounts, tokens)
            is Reason.TOKEN_EXPIRED)


def test_session_policy_is_grammar_checked(accounts: Accounts, tokens: TokenAuthority) -> None:
    good = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:GetObject", "Resource": "*"}]}
    cred = _mint(accounts, tokens, json.dumps(good))
    who = resolve(cred.access_key_id, cred.security_token, 0, accounts=accounts, tokens=tokens)
    assert who.principal.session_policy == good
    bad = _mint(accounts, tokens, json.dumps({"Version": "1", "Statement": []}))
    assert _reason(bad.access_key_id, bad.security_token, 0, accounts, tokens) is Reason.TOKEN_INVALID


def test_error_names_no_secret_or_token(accounts: Accounts, tokens: TokenAuthority) -> None:
    a, b = _mint(accounts, tokens), _mint(accounts, tokens)
    with pytest.raises(IdentityError) as info:
        resolve(a.access_key_id, b.security_token, 0, accounts=accounts, tokens=tokens)
    text = str(info.value) + repr(info.value)
    assert b.security_token not in text and a.access_key_secret not in text


def test_every_reason_has_a_wire_error_in_each_port() -> None:
    assert set(oss_credentials.REFUSALS) == set(Reason)
    assert set(sts_authn.REFUSALS) == set(Reason)


def test_no_port_tells_token_errors_apart_by_message_text() -> None:
    import inspect

    for module in (oss_credentials, sts_authn):
        assert "does not belong" not in inspect.getsource(module)


def test_ram_state_inactive_lookup_is_opt_in(accounts: Accounts) -> None:
    key = accounts.ram.data.users["appserver"].access_keys[0]
    key.status = "Inactive"
    assert accounts.ram.key_owner(key.access_key_id) is None
    found = accounts.ram.key_owner(key.access_key_id, active_only=False)
    assert found is not None and isinstance(found[1], ram.AccessKey)
