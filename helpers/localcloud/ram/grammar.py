"""RAM policy grammar (reference §11): the grammar check (`parse_policy`) and the compiled form
(`compile_policy` → `Statement`s) that `ram.policy` evaluates.

Pure model code: imports nothing from Starlette or the wire layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from helpers.localcloud.ram.conditions import (
    OPERATORS,
    Condition,
    ConditionValueError,
    Context,
    build_condition,
    glob_regex,
)

_TOP_KEYS = frozenset({"Version", "Statement"})
_STATEMENT_KEYS = frozenset({"Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_PRINCIPAL_KINDS = frozenset({"RAM", "Service", "Federated"})


class PolicyGrammarError(ValueError):
    """A policy document that RAM's grammar check would refuse. `str(err)` is a short reason."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One compiled statement. `resources` is None when the statement names none (trust policies);
    `principal` maps a principal kind (`RAM`, `Service`, `Federated`, or `*`) to its values."""

    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None
    not_resource: bool
    conditions: tuple[Condition, ...]
    principal: Mapping[str, tuple[str, ...]] | None = None

    def matches_action(self, action: str) -> bool:
        hit = any(glob_regex(p, ignore_case=True).fullmatch(action) for p in self.actions)
        return not hit if self.not_action else hit

    def matches_resource(self, resource: str | None) -> bool:
        if self.resources is None or resource is None:
            return True
        hit = any(glob_regex(p).fullmatch(resource) for p in self.resources)
        return not hit if self.not_resource else hit

    def conditions_hold(self, ctx: Context) -> bool:
        return all(c.holds(ctx) for c in self.conditions)

    def applies(self, action: str, resource: str | None, ctx: Context) -> bool:
        """Action, resource and every condition match (ctx from `normalize_context`)."""
        return self.matches_action(action) and self.matches_resource(resource) and self.conditions_hold(ctx)


# ---------------------------------------------------------------------------------------------- grammar

def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyGrammarError(f"{what} must not be empty")
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise PolicyGrammarError(f"{what} must be a non-empty string or a list of them")
    return tuple(items)


def _check_action(a: str) -> None:
    service, sep, name = a.partition(":")
    if a != "*" and (not sep or not service or not name or any(c.isspace() for c in a)):
        raise PolicyGrammarError(f"action {a!r} is not '<service>:<action>' or '*'")


def _check_resource(r: str) -> None:
    if r != "*" and (not r.startswith("acs:") or r.count(":") < 4):
        raise PolicyGrammarError(f"resource {r!r} is not 'acs:<service>:<region>:<account>:<id>' or '*'")


def _pair(st: Mapping[str, Any], key: str, *, required: bool) -> tuple[tuple[str, ...] | None, bool]:
    """Read `key` or `Not<key>` (exactly one); returns (values, negated)."""
    plain, neg = st.get(key), st.get("Not" + key)
    if key in st and "Not" + key in st:
        raise PolicyGrammarError(f"a statement cannot have both {key} and Not{key}")
    if key not in st and "Not" + key not in st:
        if required:
            raise PolicyGrammarError(f"a statement needs {key} or Not{key}")
        return None, False
    name = key if key in st else "Not" + key
    return _strings(plain if key in st else neg, name), name != key


def _principal(value: Any) -> dict[str, tuple[str, ...]]:
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, dict) or not value:
        raise PolicyGrammarError("Principal must be '*' or an object such as {\"RAM\": [...]}")
    out: dict[str, tuple[str, ...]] = {}
    for kind, ids in value.items():
        if kind not in _PRINCIPAL_KINDS:
            raise PolicyGrammarError(f"unknown principal kind {kind!r}")
        out[kind] = _strings(ids, f"Principal.{kind}")
    return out


def _conditions(block: Any) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        raise PolicyGrammarError("Condition must be an object")
    out: list[Condition] = []
    for op, keys in block.items():
        if op not in OPERATORS:
            raise PolicyGrammarError(f"unknown condition operator {op!r}")
        if not isinstance(keys, dict) or not keys:
            raise PolicyGrammarError(f"{op} must map condition keys to values")
        for key, raw in keys.items():
            if not isinstance(key, str) or not key.strip():
                raise PolicyGrammarError(f"{op} has an empty condition key")
            values = raw if isinstance(raw, list) else [raw]
            if not values or not all(isinstance(v, str | int | float | bool) for v in values):
                raise PolicyGrammarError(f"{op} {key}: values must be strings, numbers or booleans")
            try:
                out.append(build_condition(op, key, raw))
            except ConditionValueError as exc:
                raise PolicyGrammarError(str(exc)) from None
    return tuple(out)


def _statement(st: Any, allow_principal: bool) -> Statement:
    if not isinstance(st, dict):
        raise PolicyGrammarError("each statement must be an object")
    allowed = _STATEMENT_KEYS | ({"Principal"} if allow_principal else set())
    unknown = sorted(set(st) - allowed)
    if unknown:
        raise PolicyGrammarError(f"unknown statement element {unknown[0]!r}")
    effect = st.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyGrammarError("Effect must be 'Allow' or 'Deny'")
    actions, not_action = _pair(st, "Action", required=True)
    assert actions is not None
    for a in actions:
        _check_action(a)
    # Trust and bucket policies name a Principal and may omit Resource; identity/session policies may not.
    resources, not_resource = _pair(st, "Resource", required=not allow_principal)
    for r in resources or ():
        _check_resource(r)
    principal = _principal(st["Principal"]) if "Principal" in st else None
    conditions = _conditions(st["Condition"]) if "Condition" in st else ()
    return Statement(effect, actions, not_action, resources, not_resource, conditions, principal)


@lru_cache(maxsize=512)
def _compile_cached(canonical: str, allow_principal: bool) -> tuple[Statement, ...]:
    doc = json.loads(canonical)
    if not isinstance(doc, dict):
        raise PolicyGrammarError("a policy must be a JSON object")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise PolicyGrammarError(f"unknown policy element {unknown[0]!r}")
    if doc.get("Version") != "1":
        raise PolicyGrammarError("Version must be \"1\"")
    raw = doc.get("Statement")
    statements = [raw] if isinstance(raw, dict) else raw
    if not isinstance(statements, list) or not statements:
        raise PolicyGrammarError("Statement must be a non-empty list of statements")
    return tuple(_statement(st, allow_principal) for st in statements)


def compile_policy(doc: Mapping[str, Any], *, allow_principal: bool = False) -> tuple[Statement, ...]:
    """Grammar-check `doc` and return its compiled statements (cached by content)."""
    try:
        canonical = json.dumps(doc, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        raise PolicyGrammarError("a policy must contain only JSON values") from None
    return _compile_cached(canonical, allow_principal)


def parse_policy(text_or_doc: str | Mapping[str, Any], *, allow_principal: bool = False) -> dict[str, Any]:
    """Parse (when text) and grammar-check a policy; return the document as given.

    `allow_principal=True` is for role trust policies (and bucket policies): `Principal` is then
    accepted and `Resource` optional. Raises PolicyGrammarError with a short reason.
    """
    if isinstance(text_or_doc, str):
        try:
            doc = json.loads(text_or_doc)
        except ValueError:
            raise PolicyGrammarError("the policy is not valid JSON") from None
    else:
        doc = text_or_doc
    if not isinstance(doc, Mapping):
        raise PolicyGrammarError("a policy must be a JSON object")
    compile_policy(doc, allow_principal=allow_principal)
    return dict(doc)
