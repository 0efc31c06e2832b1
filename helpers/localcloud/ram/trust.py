"""Role trust policies: does a role trust the identity that calls AssumeRole?

`Principal: {"RAM": ["acs:ram::<acct>:root"]}` trusts every RAM identity of that account (each still
needs `sts:AssumeRole` permission of its own); `acs:ram::<acct>:user/<name>` trusts one user,
`acs:ram::<acct>:role/<name>` the sessions of one role, `"*"` anyone. `Service` and `Federated`
principals never match a RAM identity. A matching Deny statement wins.

Pure model code: imports only the standard library and `ram.policy` / `ram.conditions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpers.localcloud.ram.conditions import normalize_context
from helpers.localcloud.ram.grammar import Statement, compile_policy
from helpers.localcloud.ram.policy import Decision, evaluate_compiled

ASSUME_ROLE = "sts:AssumeRole"


def _ram_principal_matches(entry: str, caller_arn: str, caller_account_id: str) -> bool:
    if entry == "*":
        return True
    # RAM user and role names are case-insensitive.
    want, caller = entry.casefold(), caller_arn.casefold()
    if want == f"acs:ram::{caller_account_id}:root".casefold():
        return True
    if want == caller:
        return True
    prefix, sep, role_name = want.partition(":role/")
    # A role principal trusts that role's sessions: acs:ram::<acct>:assumed-role/<role>/<session>.
    return bool(sep and role_name) and caller.startswith(f"{prefix}:assumed-role/{role_name}/")


def _principal_matches(st: Statement, caller_arn: str, caller_account_id: str) -> bool:
    if st.principal is None:
        return False
    if "*" in st.principal:
        return True
    return any(_ram_principal_matches(e, caller_arn, caller_account_id) for e in st.principal.get("RAM", ()))


def trusts(trust_policy: Mapping[str, Any], *, caller_arn: str, caller_account_id: str,
           context: Mapping[str, str | Sequence[str]] | None = None, action: str = ASSUME_ROLE) -> bool:
    """True when a statement naming the caller allows `action` and no such statement denies it.

    `context` carries condition keys such as `sts:ExternalId`; a statement whose conditions fail
    does not apply. Raises PolicyGrammarError on a malformed trust policy.
    """
    statements = [st for st in compile_policy(trust_policy, allow_principal=True)
                  if _principal_matches(st, caller_arn, caller_account_id)]
    decision = evaluate_compiled(statements, action=action, resource=None,
                                 ctx=normalize_context(context or {}))
    return decision is Decision.ALLOW
