"""Exercise of notebook 01: a session policy that allows only reading `users/alice/photos/*`.

`check` AssumeRoles with the candidate policy (the developer's view, `book.assume_role`) and tries
GetObject, PutObject and ListObjects on several keys with the resulting temporary credentials; OSS's
answers are compared with the expected matrix.
"""

from __future__ import annotations

import json
from typing import Any

from helpers import sample_data
from helpers.exercises.marks import Marks, not_answered
from helpers.protocol.scopes import user_prefix
from helpers.refusals import describe_error

SETUP_KEYS = ("photos/exercise-cat.jpg", "notes/exercise-note.txt")


def solution(book: Any) -> dict[str, Any]:
    """The reference answer: GetObject only, on alice's photos folder only."""
    bucket = book.bucket
    return {"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": ["oss:GetObject"],
        "Resource": [f"acs:oss:*:*:{bucket}/users/alice/photos/*"]}]}


def created_keys() -> list[str]:
    """What `check` uploads (for the notebook's cleanup)."""
    return [f"{user_prefix('alice')}{k}" for k in (*SETUP_KEYS, "photos/exercise-new.jpg")]


def _try(call: Any) -> str:
    try:
        call()
    except Exception as exc:  # OSS's refusal is the data here
        got = describe_error(exc)
        return f"refused ({got.status} {got.code})"
    return "allowed"


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    """AssumeRole with the answer as session policy, then try five calls; a wrong outcome names the
    action or resource the policy gets wrong."""
    if not_answered(answer):
        return False
    alice = book.client("alice")
    samples = (sample_data.SAMPLES["photo"], sample_data.SAMPLES["text"])
    for key, sample in zip(SETUP_KEYS, samples, strict=True):   # objects to read, uploaded as usual
        alice.upload(key, sample.path, content_type=sample.content_type)
    marks = Marks()
    try:
        creds = book.assume_role(answer if isinstance(answer, str) else json.dumps(answer),
                                 session_name="exercise-01")
    except Exception as exc:  # STS refusing the policy is an answer to report, not a crash
        got = describe_error(exc)
        marks.expect(False, "STS accepts the policy", f"{got.status} {got.code}: {got.message}")
        return marks.finish(strict=strict)
    marks.expect(True, "STS accepts the policy")
    bucket = book.oss_bucket(creds)
    # (what, expected, call, why it must be so: the action or resource the policy gets wrong otherwise)
    matrix = [
        ("GetObject users/alice/photos/exercise-cat.jpg", "allowed",
         lambda: bucket.get_object("users/alice/photos/exercise-cat.jpg").read(),
         "reading is the point: allow oss:GetObject on acs:oss:*:*:<bucket>/users/alice/photos/*"),
        ("GetObject users/alice/notes/exercise-note.txt", "refused",
         lambda: bucket.get_object("users/alice/notes/exercise-note.txt").read(),
         "outside photos/: the Resource must end in users/alice/photos/*, not users/alice/*"),
        ("GetObject users/bob/photos/exercise-cat.jpg", "refused",
         lambda: bucket.get_object("users/bob/photos/exercise-cat.jpg").read(),
         "another user's folder: the Resource must name users/alice/, not users/*"),
        ("PutObject users/alice/photos/new.jpg", "refused",
         lambda: bucket.put_object("users/alice/photos/exercise-new.jpg", b"x"),
         "writing: the Action list must not hold oss:PutObject (nor oss:* or oss:Put*)"),
        ("ListObjects prefix users/alice/photos/", "refused",
         lambda: bucket.list_objects(prefix="users/alice/photos/"),
         "listing: the Action list must not hold oss:ListObjects (nor oss:* or oss:List*)"),
    ]
    for what, expected, call, why in matrix:
        outcome = _try(call)
        ok = outcome.split(" ")[0] == expected
        marks.expect(ok, f"{what}: expected {expected}", f"OSS: {outcome}" + ("" if ok else f"; {why}"))
    return marks.finish(strict=strict)
