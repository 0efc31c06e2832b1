"""Exercise of notebook 07: a session policy that lets alice's app put objects in users/alice/ and
denies deleting anything, anywhere. Checked live: AssumeRole with the candidate policy, then real
requests (helpers.lessons.permissions)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import oss2

from helpers.exercises._marks import mark, not_answered, verdict
from helpers.lessons import permissions
from helpers.refusals import error_text

if TYPE_CHECKING:
    from helpers.workbook import Book

OPERATIONS: dict[str, tuple[permissions.Operation, bool]] = {  # name -> (operation, expected allowed)
    "PutObject users/alice/exercise.txt": (
        lambda b, other, me, them: b.put_object(f"users/{me}/exercise.txt", b"x"),
        True,
    ),
    "DeleteObject users/alice/exercise.txt": (
        lambda b, other, me, them: b.delete_object(f"users/{me}/exercise.txt"),
        False,
    ),
    "DeleteObject users/bob/photos/cat.txt": (
        lambda b, other, me, them: b.delete_object(f"users/{them}/{permissions.FIXTURE}"),
        False,
    ),
    "PutObject users/bob/exercise.txt": (
        lambda b, other, me, them: b.put_object(f"users/{them}/exercise.txt", b"x"),
        False,
    ),
}


def solution() -> dict[str, Any]:
    return {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:PutObject"],
                "Resource": ["acs:oss:*:*:workbook/users/alice/*"],
            },
            {"Effect": "Deny", "Action": ["oss:DeleteObject"], "Resource": ["acs:oss:*:*:*"]},
        ],
    }


def _has_explicit_deny(policy: dict[str, Any]) -> bool:
    for st in policy.get("Statement", []):
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if st.get("Effect") == "Deny" and any(a in ("oss:DeleteObject", "oss:*", "*") for a in actions):
            return True
    return False


def check(book: Book, answer: Any, *, strict: bool = False) -> None:
    if answer is None:
        return not_answered()
    policy = json.loads(answer) if isinstance(answer, str) else dict(answer)
    policy = json.loads(json.dumps(policy).replace("acs:oss:*:*:workbook", f"acs:oss:*:*:{book.bucket}"))
    permissions.seed_fixtures(book)
    try:
        creds = book.assume_role(policy, session_name="alice-exercise")
    except Exception as exc:  # STS refusing the policy is an answer to report, not a crash
        return verdict(
            [mark(False, f"STS accepts the policy ({error_text(exc)})")],
            strict=strict,
            what="deny delete",
        )
    results = [mark(True, "STS accepts the policy (AssumeRole 200)")]
    ops = {name: op for name, (op, _) in OPERATIONS.items()}
    outcome = permissions.try_operations(book, creds, "alice", "bob", ops)
    for name, (_, expected) in OPERATIONS.items():
        got = outcome[name]
        said = "allowed" if got.allowed else f"refused ({got.code})"
        results.append(
            mark(got.allowed == expected, f"{name}: {said}, should be {'allowed' if expected else 'refused'}")
        )
    results.append(
        mark(
            _has_explicit_deny(policy),
            "an explicit Deny on oss:DeleteObject (so no later Allow can grant it)",
        )
    )
    _cleanup(book)
    return verdict(results, strict=strict, what="deny delete")


def _cleanup(book: Book) -> None:
    try:
        book.delete_objects(["users/alice/exercise.txt", "users/bob/exercise.txt"])
    except (AttributeError, oss2.exceptions.OssError):
        pass
