"""RAM Condition operators (reference §11.4): value parsing at grammar-check time and matching at
evaluation time. Also the one wildcard translator (`glob_regex`) used for actions, resources and
StringLike, which escapes everything but `*` and `?`.

Pure: imports only the standard library (no Starlette, no other local-cloud module).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Request context after key normalisation: lower-cased key → values (one or more).
Context = Mapping[str, Sequence[str]]

_EPOCH = re.compile(r"[0-9]+(\.[0-9]+)?")


class ConditionValueError(ValueError):
    """A condition value that its operator cannot use (bad number, date, bool or CIDR)."""


@functools.lru_cache(maxsize=4096)
def glob_regex(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """`*` → any run (also across `/` and `:`), `?` → one character; every other character literal."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def _scalar_str(v: Any) -> str:
    if isinstance(v, bool):          # before int: JSON true is a Python int too
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _number(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _date(v: Any) -> float | None:
    """ISO 8601 (`Z`, offsets, or naive = UTC) or epoch seconds → POSIX timestamp."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) else None
    s = str(v).strip()
    if _EPOCH.fullmatch(s):
        return float(s)
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _bool(v: Any) -> str | None:
    s = _scalar_str(v).lower()
    return s if s in ("true", "false") else None


def _ip(v: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(v.strip())
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket arrives as ::ffff:a.b.c.d.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _network(v: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if isinstance(v, bool | int | float):
        return None
    try:
        return ipaddress.ip_network(str(v).strip(), strict=False)
    except ValueError:
        return None


def _ip_in(ctx: str, net: Any) -> bool:
    ip = _ip(ctx)
    return ip is not None and ip.version == net.version and ip in net


def _like(ctx: str, pattern: Any) -> bool:
    return pattern.fullmatch(ctx) is not None


def _ordered(parse: Callable[[Any], Any], cmp: Callable[[Any, Any], bool]) -> Callable[[str, Any], bool]:
    def test(ctx: str, want: Any) -> bool:
        got = parse(ctx)
        return got is not None and cmp(got, want)
    return test


@dataclass(frozen=True, slots=True)
class _OpSpec:
    parse: Callable[[Any], Any]          # policy value → prepared value, None when unusable
    test: Callable[[str, Any], bool]     # (context value, prepared policy value) → match
    negated: bool = False


def _string_ops() -> dict[str, _OpSpec]:
    exact = _OpSpec(_scalar_str, operator.eq)
    fold = _OpSpec(lambda v: _scalar_str(v).casefold(), lambda c, w: c.casefold() == w)
    like = _OpSpec(lambda v: glob_regex(_scalar_str(v)), _like)
    return {
        "StringEquals": exact, "StringNotEquals": _OpSpec(exact.parse, exact.test, True),
        "StringEqualsIgnoreCase": fold, "StringNotEqualsIgnoreCase": _OpSpec(fold.parse, fold.test, True),
        "StringLike": like, "StringNotLike": _OpSpec(like.parse, like.test, True),
    }


def _ordered_ops(prefix: str, parse: Callable[[Any], Any]) -> dict[str, _OpSpec]:
    cmps: dict[str, Callable[[Any, Any], bool]] = {
        "Equals": operator.eq, "LessThan": operator.lt, "LessThanEquals": operator.le,
        "GreaterThan": operator.gt, "GreaterThanEquals": operator.ge}
    ops = {prefix + name: _OpSpec(parse, _ordered(parse, cmp)) for name, cmp in cmps.items()}
    ops[prefix + "NotEquals"] = _OpSpec(parse, _ordered(parse, operator.eq), True)
    return ops


OPERATORS: dict[str, _OpSpec] = {
    **_string_ops(),
    **_ordered_ops("Numeric", _number),
    **_ordered_ops("Date", _date),
    "Bool": _OpSpec(_bool, lambda c, w: c.strip().lower() == w),
    "IpAddress": _OpSpec(_network, _ip_in),
    "NotIpAddress": _OpSpec(_network, _ip_in, True),
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key) pair of a Condition block, with its policy values prepared."""

    operator: str
    key: str                  # lower-cased: condition keys are case-insensitive
    values: tuple[Any, ...]

    def holds(self, ctx: Context) -> bool:
        """OR across values (and context values); a negated operator is the negation of its positive
        form, so an absent key makes a positive operator false and a negated one true."""
        spec = OPERATORS[self.operator]
        got = ctx.get(self.key, ())
        hit = any(spec.test(c, w) for c in got for w in self.values)
        return not hit if spec.negated else hit


def build_condition(op: str, key: str, raw: Any) -> Condition:
    """Prepare one (operator, key, value|values); raise ConditionValueError on a value the operator
    cannot use. The caller has already checked `op` is in OPERATORS."""
    raw_values = raw if isinstance(raw, list) else [raw]
    spec = OPERATORS[op]
    prepared = []
    for v in raw_values:
        p = spec.parse(v)
        if p is None:
            raise ConditionValueError(f"{op} cannot use the value {_scalar_str(v)!r} of {key}")
        prepared.append(p)
    return Condition(op, key.lower(), tuple(prepared))


def normalize_context(context: Mapping[str, str | Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Lower-case the keys and make every value a tuple of strings; a None value counts as absent."""
    out: dict[str, tuple[str, ...]] = {}
    for k, v in context.items():
        if v is None:
            continue
        vals = (v,) if isinstance(v, str) else tuple(str(x) for x in v)
        out[k.lower()] = out.get(k.lower(), ()) + vals
    return out
