"""Exercise of notebook 00: which component may hold the developer's AccessKey?

`check` compares the answer, then proves it with real calls: the app server's RAM key alone cannot
even list the bucket (OSS refuses it), and what the client gets from /api/sts is a temporary STS key.
Never prints a key.
"""

from __future__ import annotations

from typing import Any

from helpers.exercises.marks import Marks, not_answered

CHOICES = ("client", "app server", "STS", "OSS")


def solution(book: Any = None) -> str:
    return "app server"


def _normal(answer: str) -> str:
    return answer.strip().lower().replace("-", " ").replace("_", " ").replace("appserver", "app server")


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    if not_answered(answer):
        return False
    import oss2

    marks = Marks()
    marks.expect(isinstance(answer, str) and _normal(answer) == "app server",
                 "the AccessKey lives on the app server only", f"your answer: {answer!r}")
    ak, secret = book.developer_key
    bucket = oss2.Bucket(oss2.Auth(ak, secret), book.oss_endpoint, book.bucket)
    try:
        bucket.list_objects(max_keys=1)
        refused = ""
    except oss2.exceptions.ServerError as exc:
        refused = f"{exc.status} {exc.code}"
    marks.expect(refused == "403 AccessDenied",
                 "even there it can do nothing but sts:AssumeRole: OSS refuses a listing signed with it",
                 refused or "the listing went through")
    token = book.client("alice").api.sts("upload")
    kid = token.credentials.access_key_id
    marks.expect(kid.startswith("STS.") and kid != ak,
                 "the client receives only temporary STS credentials (AccessKeyId STS.…)")
    return marks.finish(strict=strict)
