"""STS request signatures: RPC HMAC-SHA1 (SignatureVersion 1.0) and ACS3-HMAC-SHA256 (OpenAPI V3).

Pure functions over decoded parameters and raw header values (reference §10.2, §10.3); the caller
looks up the secret and decides what a mismatch means. Every comparison is constant-time.
This module imports only the standard library (no Starlette, nothing from the local cloud).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

ACS3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class SignatureFormatError(ValueError):
    """The Authorization header is not a well-formed ACS3 signature."""


def percent_encode(value: str) -> str:
    """RFC 3986 over UTF-8: keep `A-Z a-z 0-9 - _ . ~`, everything else `%XX` (space → `%20`)."""
    return quote(value, safe="~", encoding="utf-8")


def _percent_encode_plus(value: str) -> str:
    # alibabacloud-credentials' RamRoleArn provider signs with quote_plus: space → `+` (reference §10.1 D).
    return percent_encode(value).replace("%20", "+")


# ---- RPC (HMAC-SHA1) ---------------------------------------------------------------------------


def rpc_string_to_sign(method: str, params: Mapping[str, str], *, plus_for_space: bool = False) -> str:
    """`METHOD&%2F&percentEncode(sorted k=v joined by &)`, excluding `Signature` (reference §10.2)."""
    enc = _percent_encode_plus if plus_for_space else percent_encode
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(string_to_sign: str, secret: str) -> str:
    """base64(HMAC-SHA1(secret + "&", string_to_sign))."""
    mac = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


@dataclass(frozen=True, slots=True)
class RpcCheck:
    """Outcome of an RPC verification; `string_to_sign` is the standard form (for the error message)."""

    ok: bool
    string_to_sign: str


def verify_rpc(method: str, params: Mapping[str, str], secret: str, signature: str) -> RpcCheck:
    """Check `signature` against the standard string to sign, then against the `+`-for-space variant."""
    standard = rpc_string_to_sign(method, params)
    candidates = [standard]
    variant = rpc_string_to_sign(method, params, plus_for_space=True)
    if variant != standard:
        candidates.append(variant)
    given = signature.encode("utf-8")
    ok = False
    for sts in candidates:
        # No early exit: the same work whichever candidate matches.
        ok |= hmac.compare_digest(rpc_signature(sts, secret).encode("ascii"), given)
    return RpcCheck(ok, standard)


# ---- ACS3-HMAC-SHA256 --------------------------------------------------------------------------

_AUTH_RE = re.compile(r"^(?P<alg>ACS3-[A-Z0-9-]+) +(?P<rest>.+)$")
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]+$")


@dataclass(frozen=True, slots=True)
class Acs3Authorization:
    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_acs3_authorization(value: str) -> Acs3Authorization:
    """Split `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`."""
    m = _AUTH_RE.match(value.strip())
    if not m:
        raise SignatureFormatError("not an ACS3 Authorization header")
    fields: dict[str, str] = {}
    for part in m.group("rest").split(","):
        name, sep, val = part.strip().partition("=")
        if not sep or name in fields:
            raise SignatureFormatError("malformed Authorization field")
        fields[name] = val.strip()
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise SignatureFormatError("Authorization needs exactly Credential, SignedHeaders, Signature")
    signed = tuple(fields["SignedHeaders"].split(";"))
    if not fields["Credential"] or not fields["Signature"] or not all(
            _HEADER_NAME_RE.match(h) for h in signed):
        raise SignatureFormatError("empty Credential/Signature or bad SignedHeaders")
    return Acs3Authorization(m.group("alg"), fields["Credential"], signed, fields["Signature"])


def acs3_canonical_request(method: str, path: str, query: Mapping[str, str],
                           headers: Mapping[str, Sequence[str]], signed_headers: Sequence[str],
                           hashed_payload: str) -> str:
    """The canonical request of reference §10.3.

    `query` holds decoded values; names are not encoded (tea does not encode them either).
    `headers` maps lower-case names to every raw value received (Host exactly as sent).
    A signed header that is absent canonicalises as `name:` so the signature simply fails.
    """
    canonical_query = "&".join(f"{k}={percent_encode(query[k])}" for k in sorted(query))
    lines = []
    for name in signed_headers:
        values = sorted(v.strip() for v in headers.get(name, ()))
        lines.append(f"{name}:{','.join(values)}\n")
    return (f"{method.upper()}\n{path}\n{canonical_query}\n{''.join(lines)}\n"
            f"{';'.join(signed_headers)}\n{hashed_payload}")


def acs3_string_to_sign(canonical_request: str, algorithm: str = ACS3_ALGORITHM) -> str:
    return f"{algorithm}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"


def acs3_signature(string_to_sign: str, secret: str) -> str:
    """hex(HMAC-SHA256(secret, string_to_sign)): the plain secret, no `&`."""
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Acs3Check:
    ok: bool
    string_to_sign: str


def verify_acs3(auth: Acs3Authorization, *, method: str, path: str, query: Mapping[str, str],
                headers: Mapping[str, Sequence[str]], body: bytes, secret: str) -> Acs3Check:
    """Verify an ACS3-HMAC-SHA256 request. The hashed payload is the `x-acs-content-sha256` header,
    which must also equal the SHA-256 of the body actually received (else a signed header could
    vouch for a body that was swapped in transit)."""
    declared = [v.strip() for v in headers.get("x-acs-content-sha256", ())]
    actual = hashlib.sha256(body).hexdigest()
    payload_ok = len(declared) == 1 and hmac.compare_digest(declared[0].lower(), actual)
    hashed_payload = declared[0] if len(declared) == 1 else actual
    canonical = acs3_canonical_request(method, path, query, headers, auth.signed_headers, hashed_payload)
    sts = acs3_string_to_sign(canonical, auth.algorithm)
    sig_ok = hmac.compare_digest(acs3_signature(sts, secret).encode("ascii"),
                                 auth.signature.lower().encode("utf-8"))
    return Acs3Check(payload_ok and sig_ok, sts)
