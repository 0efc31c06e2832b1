"""Each protocol rule moved into `helpers.protocol` has exactly one definition, and the package
imports nothing but the standard library (and cryptography).

A rule is recognised by the text its copies share (grep-style, over Python sources); no file outside
`helpers/protocol` may match.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROTOCOL = ROOT / "helpers" / "protocol"
HERE = Path(__file__).resolve()

# rule -> (pattern, the folders searched)
RULES: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    # `users/<uid>/` built by hand instead of `scopes.user_prefix`.
    "user prefix": (re.compile(r"""f["']users/\{"""), ("helpers", "benchmarks")),
    # The scope policies' action lists.
    "scope actions": (re.compile(r'"oss:PutObject",\s*"oss:AbortMultipartUpload"'),
                      ("helpers", "benchmarks")),
    # URL style decided by hand.
    "url style": (re.compile(r"""["']127\.0\.0\.1["'] in |is_ip_or_localhost\(|def is_ip_host|"""
                             r"""path_style = """), ("helpers", "benchmarks")),
    # The V4 signing-key chain and the V1 policy HMAC.
    "form signing": (re.compile(r"""["']aliyun_v4["'] \+|policy\.encode\(\), hashlib\.sha1"""),
                     ("helpers", "tests", "benchmarks")),
    # An OSS error document parsed by hand (client side; the local cloud writes them).
    "error parsing": (re.compile(r"""findtext\(["']Code|["']x-oss-err["']\)|child\.tag: """), ("helpers",)),
    # The local cloud's key path defined as a literal.
    "callback key path": (re.compile(r"""^\s*\w+\s*(?::\s*\w+\s*)?=\s*"""
                                     r"""["']/_localcloud/callback_pub_key_v1\.pem""", re.MULTILINE),
                          ("helpers", "tests", "benchmarks")),
    # The allow-list composed by hand.
    "callback allow-list": (re.compile(r"""\+ ?\(?[a-z_.]*\+ ?LOCAL_KEY_PATH|\+ LOCAL_KEY_PATH,\)"""),
                            ("helpers", "benchmarks")),
}

# The local cloud writes error documents; the rule is about reading them.
EXCLUDED: dict[str, tuple[str, ...]] = {"error parsing": ("helpers/localcloud/",)}


def _sources(rule: str, folders: tuple[str, ...]) -> list[Path]:
    skip = EXCLUDED.get(rule, ())
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")
            if PROTOCOL not in p.parents and p != HERE and "notebooks" not in p.relative_to(ROOT).parts[:2]
            and not str(p.relative_to(ROOT)).startswith(skip)]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_has_one_home(rule: str) -> None:
    pattern, folders = RULES[rule]
    copies = {str(p.relative_to(ROOT)) for p in _sources(rule, folders)
              if pattern.search(p.read_text(encoding="utf-8"))}
    assert copies == set(), f"{rule}: import it from helpers.protocol instead of copying it"


# One copy of each rule as it was written before the move: each pattern must catch it.
COPIES = {
    "user prefix": 'key = f"users/{user}/photos/"',
    "scope actions": '"Action": ["oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts"],',
    "url style": 'url = f"{e}/{b}" if "127.0.0.1" in e else e',
    "form signing": 'key = ("aliyun_v4" + secret).encode()',
    "error parsing": 'return {child.tag: child.text or "" for child in root}',
    "callback key path": 'LOCAL_KEY_PATH = "/_localcloud/callback_pub_key_v1.pem"',
    "callback allow-list": 'extra = (book.oss_endpoint + LOCAL_KEY_PATH,)',
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_pattern_catches_a_copy(rule: str) -> None:
    assert RULES[rule][0].search(COPIES[rule])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PROTOCOL.glob("*.py")), ids=lambda p: p.name)
def test_protocol_imports_only_stdlib_and_itself(path: Path) -> None:
    allowed_third_party = {"cryptography"}
    for name in _imports(path):
        top = name.split(".")[0]
        if name.startswith("helpers."):
            assert name.startswith("helpers.protocol"), f"{path.name} imports {name} (upward)"
        else:
            assert top in sys.stdlib_module_names or top in allowed_third_party or top == "__future__", \
                f"{path.name} imports {name}"
