"""RAM policy evaluation (reference §11): three-way evaluation (`evaluate` → `Decision`), the
authorization rule per principal kind (`allows`: a decision, which OSS, STS and RAM each render as
their own refusal), and the request condition context (`request_context`). The grammar and the
compiled form live in `ram.grammar`; its names are importable from here too.

Pure model code: imports nothing from Starlette or the wire layer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from helpers.localcloud.ram.conditions import Context, normalize_context
from helpers.localcloud.ram.grammar import PolicyGrammarError, Statement, compile_policy, parse_policy

if TYPE_CHECKING:
    from helpers.localcloud.identity import Principal

__all__ = ["Decision", "PolicyGrammarError", "Statement", "allows", "compile_policy", "evaluate",
           "evaluate_compiled", "parse_policy", "request_context"]


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"          # an explicit Deny matched: wins over every Allow
    NEUTRAL = "neutral"    # nothing matched: implicit deny


# ------------------------------------------------------------------------------------------- evaluation

def evaluate_compiled(statements: Iterable[Statement], *, action: str, resource: str | None,
                      ctx: Context) -> Decision:
    """Explicit Deny wins; else any matching Allow allows; else NEUTRAL."""
    allowed = False
    for st in statements:
        if st.applies(action, resource, ctx):
            if st.effect == "Deny":
                return Decision.DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.NEUTRAL


def evaluate(policies: Iterable[Mapping[str, Any]], *, action: str, resource: str,
             context: Mapping[str, str | Sequence[str]]) -> Decision:
    """Evaluate identity/session policies for one request. Raises PolicyGrammarError on a bad policy."""
    statements = [st for doc in policies for st in compile_policy(doc)]
    return evaluate_compiled(statements, action=action, resource=resource, ctx=normalize_context(context))


def allows(principal: Principal, *, action: str, resource: str,
           context: Mapping[str, str | Sequence[str]]) -> bool:
    """Whether `principal` may perform `action` on `resource`: the decision; each port renders a refusal.

    account → always (root); ram_user → its policies allow; sts → role policies allow and, when a
    session policy was given, it allows too (it can only narrow); anonymous → never (public-read ACLs
    are the caller's business, before this call).
    """
    if principal.kind == "account":
        return True
    if principal.kind not in ("ram_user", "sts"):
        return False
    ctx = normalize_context(context)
    role = evaluate_compiled([st for doc in principal.policies for st in compile_policy(doc)],
                             action=action, resource=resource, ctx=ctx)
    if role is not Decision.ALLOW:
        return False
    if principal.kind == "ram_user" or principal.session_policy is None:
        return True
    session = evaluate_compiled(compile_policy(principal.session_policy),
                                action=action, resource=resource, ctx=ctx)
    return session is Decision.ALLOW


def request_context(*, source_ip: str, now: float, secure: bool, user_agent: str | None,
                    access_key_id: str | None, extra: Mapping[str, str] | None = None,
                    ) -> dict[str, str | list[str]]:
    """The condition keys of one request. Absent facts are left out (so positive operators fail).

    For ListObjects pass `extra={"oss:Prefix": prefix or "", "oss:Delimiter": delimiter or ""}`: an
    unprefixed listing must still present `oss:Prefix` as "" so `StringLike users/alice/*` refuses it.
    """
    ctx: dict[str, str | list[str]] = {
        "acs:SourceIp": source_ip,
        "acs:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "acs:SecureTransport": "true" if secure else "false",
    }
    if user_agent is not None:
        ctx["acs:UserAgent"] = user_agent
    if access_key_id is not None:
        ctx["acs:AccessId"] = access_key_id
    ctx.update(extra or {})
    return ctx
