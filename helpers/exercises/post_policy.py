"""Exercise of notebook 03: the conditions of a PostObject policy that lets a browser upload only PNG
images of at most 1 MiB into `users/alice/avatars/` (any file name).

`check` signs a V4 form policy with the candidate conditions (plus the V4 fields every form needs)
using alice's upload-scope temporary credentials (AssumeRole with the app server's own session
policy), then posts six forms to OSS and compares OSS's answers with the expected ones; a wrong
outcome names the condition that is missing or off.
"""

from __future__ import annotations

from typing import Any

from helpers import http_clients
from helpers.client.results import error_fields
from helpers.exercises.marks import Marks, not_answered
from helpers.protocol import endpoints, post_form
from helpers.protocol.scopes import user_prefix

MIB = 1024 * 1024
PREFIX = user_prefix("alice") + "avatars/"


def solution(book: Any = None) -> list[Any]:
    """The reference conditions: the avatars/ prefix, 1 byte to 1 MiB, PNG only."""
    return [["starts-with", "$key", PREFIX], ["content-length-range", 1, MIB],
            ["eq", "$Content-Type", "image/png"]]


# (key, Content-Type, size, expected, what a wrong outcome says about the conditions)
CASES = [
    (PREFIX + "exercise-small.png", "image/png", 1024, "accepted",
     "a 1 KiB PNG under avatars/ must pass: check the key prefix and the Content-Type condition"),
    (PREFIX + "exercise-exact.png", "image/png", MIB, "accepted",
     f"exactly 1 MiB must pass: content-length-range is inclusive, its maximum must be {MIB}"),
    (PREFIX + "exercise-big.png", "image/png", MIB + 1, "refused",
     f"one byte over 1 MiB must fail: add [\"content-length-range\", 1, {MIB}]"),
    (PREFIX + "exercise-empty.png", "image/png", 0, "refused",
     "an empty file must fail: content-length-range's minimum must be 1, not 0"),
    (user_prefix("alice") + "exercise-elsewhere.png", "image/png", 1024, "refused",
     f"outside avatars/ must fail: add [\"starts-with\", \"$key\", \"{PREFIX}\"]"),
    (PREFIX + "exercise-notes.txt", "text/plain", 1024, "refused",
     "a text file must fail: add [\"eq\", \"$Content-Type\", \"image/png\"]"),
]


def created_keys() -> list[str]:
    """Every key the checker posts (the refused ones too: a wrong answer may let them through)."""
    return [key for key, *_ in CASES]


def signed_form(book: Any, conditions: list[Any], creds: dict[str, str]) -> dict[str, str]:
    """V4 form fields (policy, signature, credential, date, token) for `conditions`, expiring five
    minutes from now on the cloud's clock (`helpers.protocol.post_form.form_v4`)."""
    return post_form.form_v4(access_key_id=creds["AccessKeyId"], secret=creds["AccessKeySecret"],
                             region=book.region, expires=book.cloud_now() + 300,
                             conditions=[{"bucket": book.bucket}, *conditions],
                             security_token=creds["SecurityToken"])


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    """Sign the conditions with alice's upload credentials and post six forms; a wrong outcome names
    the condition that is missing or off."""
    if not_answered(answer):
        return False
    from helpers.lessons.sts import session_policy

    marks = Marks()
    if not marks.expect(isinstance(answer, list), "the answer is a list of conditions"):
        return marks.finish(strict=strict)
    creds = book.assume_role(session_policy(book, "alice", "upload"), session_name="alice-upload")
    form = signed_form(book, answer, creds)
    url = endpoints.bucket_url(book.oss_endpoint, book.bucket)     # the bucket's URL, SDK style
    with http_clients.client(timeout=60) as session:
        for key, ctype, size, expected, why in CASES:
            fields = {"key": key, "Content-Type": ctype, **form}
            r = session.post(url, data=fields, files={"file": ("f", b"\0" * size, ctype)})
            got = "accepted" if r.status_code < 300 else "refused"
            code = error_fields(r.content).get("Code", "")
            oss = f"OSS: {r.status_code}{' ' + code if code else ''}"
            marks.expect(got == expected, f"{key} ({ctype}, {size} bytes): expected {expected}",
                         oss if got == expected else f"{oss}; {why}")
    return marks.finish(strict=strict)
