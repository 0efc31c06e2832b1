"""Exercise of notebook 07: predict what OSS does with a session policy the notebook did not run.

The policy (`policy(book)`) allows `oss:*` in alice's folder, denies `oss:PutObject` in her photos
folder, allows reading bob's folder, and allows writing to a bucket the role does not cover. The
answer is a dict {operation: "allowed" | "refused"} over `OPERATIONS`. The checker calls AssumeRole
with the policy and really sends each operation to OSS; each wrong prediction is explained with the
rule that decided it (Deny wins, the resource an action is checked against, role ∩ session policy)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import oss2

from helpers.exercises.marks import Marks, not_answered
from helpers.lessons import permissions
from helpers.protocol.scopes import user_prefix
from helpers.refusals import describe_error, error_text

if TYPE_CHECKING:
    from helpers.workbook import Book

ME, THEM = "alice", "bob"
NOTE = f"{user_prefix(ME)}notes/todo.txt"
NEW_PHOTO = f"{user_prefix(ME)}photos/new.jpg"


@dataclass(frozen=True)
class Step:
    run: Callable[[oss2.Bucket, oss2.Bucket], object]
    expected: str  # "allowed" or "refused": what OSS answers (checked live, not assumed)
    why: str


OPERATIONS: dict[str, Step] = {
    f"PutObject {NOTE}": Step(
        lambda b, other: b.put_object(NOTE, b"buy milk\n"), "allowed",
        "Allow oss:* on users/alice/* covers it, and the Deny names only the photos folder"),
    f"PutObject {NEW_PHOTO}": Step(
        lambda b, other: b.put_object(NEW_PHOTO, b"x"), "refused",
        "the explicit Deny of oss:PutObject on users/alice/photos/* wins over the Allow of oss:*"),
    f"GetObject users/{ME}/{permissions.FIXTURE}": Step(
        lambda b, other: b.get_object(f"{user_prefix(ME)}{permissions.FIXTURE}").read(), "allowed",
        "the Deny names only oss:PutObject; oss:* still allows GetObject in the photos folder"),
    f"ListObjects prefix users/{ME}/": Step(
        lambda b, other: b.list_objects(prefix=f"{user_prefix(ME)}", max_keys=10), "refused",
        "listing is a bucket-level action: OSS checks it against acs:oss:*:*:<bucket>, which "
        "users/alice/* does not match (07's read-only photos policy lists with an oss:Prefix condition)"),
    f"DeleteObject {NOTE}": Step(
        lambda b, other: b.delete_object(NOTE), "allowed",
        "oss:* includes oss:DeleteObject, and no Deny names it"),
    f"GetObject users/{THEM}/{permissions.FIXTURE}": Step(
        lambda b, other: b.get_object(f"{user_prefix(THEM)}{permissions.FIXTURE}").read(), "allowed",
        "the session policy allows it and the role covers every user's folder: isolation is only as "
        "good as the policy the app server writes"),
    "PutObject in the other bucket": Step(
        lambda b, other: other.put_object(f"{user_prefix(ME)}x.txt", b"x"), "refused",
        "the role stops at the workbook bucket; a session policy can only narrow it, never widen"),
}


def policy(book: Book) -> dict[str, Any]:
    """The session policy whose effects the trainee predicts."""
    arn = f"acs:oss:*:*:{book.bucket}"
    return {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["oss:*"], "Resource": [f"{arn}/{user_prefix(ME)}*"]},
        {"Effect": "Deny", "Action": ["oss:PutObject"], "Resource": [f"{arn}/{user_prefix(ME)}photos/*"]},
        {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": [f"{arn}/{user_prefix(THEM)}*"]},
        {"Effect": "Allow", "Action": ["oss:PutObject"],
         "Resource": [f"acs:oss:*:*:{permissions.other_bucket(book.bucket)}/*"]},
    ]}


def show(book: Book) -> None:
    """Print the policy and the operations to predict, in the order the checker runs them."""
    permissions.show(policy(book))
    print("Predict, in this order:")
    for name in OPERATIONS:
        print(f"  {name}")


def solution(book: Book | None = None) -> dict[str, str]:
    return {name: step.expected for name, step in OPERATIONS.items()}


def created_keys() -> list[str]:
    """What a run may leave (the note is deleted by the run itself when OSS allows it)."""
    return [NOTE, NEW_PHOTO]


def _normalise(value: Any) -> str:
    text = str(value).strip().lower()
    if text in ("allowed", "allow", "yes", "✓", "true"):
        return "allowed"
    if text in ("refused", "refuse", "denied", "no", "✗", "false"):
        return "refused"
    return text


def check(book: Book, answer: Any, *, strict: bool = False) -> bool:
    if not_answered(answer):
        return False
    marks = Marks()
    if not isinstance(answer, dict):
        marks.expect(False, "the answer is a dict {operation: 'allowed' or 'refused'}",
                     f"got {type(answer).__name__}")
        return marks.finish(strict=strict)
    permissions.seed_fixtures(book, (ME, THEM))
    try:
        creds = book.assume_role(policy(book), session_name=f"{ME}-exercise")
    except Exception as exc:  # STS refusing (or unreachable) is a result to report, not a crash
        marks.expect(False, "STS accepts the policy", error_text(exc))
        return marks.finish(strict=strict)
    bucket, other = permissions.sts_buckets(book, creds)
    for name, step in OPERATIONS.items():
        try:
            step.run(bucket, other)
            got, code = "allowed", ""
        except oss2.exceptions.OssError as exc:
            got, code = "refused", describe_error(exc).code
        said = _normalise(answer.get(name, "(no prediction)"))
        oss = f"OSS: {got}{f' ({code})' if code else ''}"
        marks.expect(said == got, f"{name}: you said {said}",
                     oss if said == got else f"{oss}: {step.why}")
    return marks.finish(strict=strict)
