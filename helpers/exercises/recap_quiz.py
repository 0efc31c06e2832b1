"""Exercise of notebook 11: a self-check quiz over the whole course (8 multiple-choice questions).

The answer is a dict {question number: letter}. Each wrong letter is explained: why that choice is
wrong, and which notebook shows the right one. Nothing is uploaded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpers.exercises.marks import Marks, not_answered

if TYPE_CHECKING:
    from helpers.workbook import Book


@dataclass(frozen=True)
class Question:
    text: str
    choices: dict[str, str]
    right: str
    wrong: dict[str, str]  # letter -> why it is wrong
    see: str               # where the course shows it


QUESTIONS: dict[int, Question] = {
    1: Question(
        "A phone app uploads long videos and must resume after a network cut. Which flow?",
        {"a": "a signed PUT URL", "b": "STS credentials and the SDK's resumable (multipart) upload",
         "c": "a form upload (PostObject)", "d": "the developer's AccessKey inside the app"},
        "b",
        {"a": "a signed URL authorises one request; a resumable upload sends many (parts, Complete)",
         "c": "PostObject is one POST: no parts, nothing to resume",
         "d": "never: an AccessKey in an app is the whole role, for as long as the key lives"},
        "notebooks 01 and 09"),
    2: Question(
        "In the signed-URL upload (签名URL授权的上传), what does the client hold?",
        {"a": "AccessKeyId, AccessKeySecret and SecurityToken",
         "b": "one URL carrying its signature and expiry", "c": "the app server's AccessKey",
         "d": "a PostObject policy"},
        "b",
        {"a": "that is the STS flow; the signed-URL client holds no credentials at all",
         "c": "the AccessKey never leaves the app server",
         "d": "that is the form upload (表单上传)"},
        "notebook 02"),
    3: Question(
        "Which DurationSeconds can the app server ask AssumeRole for?",
        {"a": "60 to 900 seconds", "b": "900 seconds up to the role's maximum session (1 hour here)",
         "c": "any duration, if the session policy allows it", "d": "exactly 15 minutes"},
        "b",
        {"a": "900 s (15 minutes) is the minimum, not the maximum",
         "c": "a session policy limits actions and resources, never the duration; 7200 s was refused",
         "d": "15 minutes is this app server's choice, not STS's rule"},
        "notebook 07 (InvalidParameter.DurationSeconds)"),
    4: Question(
        "A session policy allows oss:* on acs:oss:*:*:* (everything). What can the token do?",
        {"a": "everything in every bucket", "b": "only what the role allows as well (role ∩ session policy)",
         "c": "nothing: the policy is refused", "d": "only read"},
        "b",
        {"a": "a session policy can only narrow the role: the other bucket stayed refused",
         "c": "STS accepts it; it is just no narrower than the role",
         "d": "oss:* includes writes; the role decides what remains"},
        "notebook 07 (Try to break it)"),
    5: Question(
        "In the middle of an upload OSS answers 403 SecurityTokenExpired. What does the app do?",
        {"a": "retry the same request", "b": "ask the app server for new STS credentials, then retry",
         "c": "fix the phone's clock", "d": "add a CORS rule"},
        "b",
        {"a": "the same token stays expired: every retry is refused",
         "c": "that is RequestTimeTooSkewed (the request's date), not the token's Expiration",
         "d": "CORS concerns browsers' preflights, not token expiry"},
        "notebooks 01, 09 and 10"),
    6: Question(
        "How does the app server know an upload callback (上传回调) really comes from OSS?",
        {"a": "by the caller's IP address", "b": "by verifying OSS's RSA signature with the public key "
         "fetched from x-oss-pub-key-url (only from Alibaba's gosspublic.alicdn.com)",
         "c": "by a password in callbackBody", "d": "it cannot know"},
        "b",
        {"a": "addresses can be spoofed or change; the signature is what OSS provides",
         "c": "callbackBody travels through the client, who could read and replay the password",
         "d": "it can: every callback is signed"},
        "notebook 04"),
    7: Question(
        "Which one must the app server never send to a client?",
        {"a": "a signed URL", "b": "STS credentials with a session policy",
         "c": "its RAM user's AccessKey secret", "d": "a PostObject policy and its signature"},
        "c",
        {"a": "a signed URL is made to be handed out: one request, one object, until it expires",
         "b": "temporary, confined credentials are the STS flow itself",
         "d": "the policy pins key, size and expiry; handing it out is the form upload"},
        "notebooks 00 and 07"),
    8: Question(
        "A web page's upload to OSS fails with a CORS error and no OSS error code. Where do you look?",
        {"a": "the bucket's CORS rules: the OPTIONS preflight was refused (403, no Access-Control-Allow-*)",
         "b": "the session policy", "c": "the callback server", "d": "the part size"},
        "a",
        {"b": "a policy refusal is a 403 AccessDenied the page can read, after the preflight passed",
         "c": "a failing callback is 203 CallbackFailed, and the object is stored",
         "d": "EntityTooSmall comes at CompleteMultipartUpload, with its own code"},
        "notebook 10"),
}


def show() -> None:
    """Print the questions and their choices."""
    for n, q in QUESTIONS.items():
        print(f"{n}. {q.text}")
        for letter, choice in q.choices.items():
            print(f"   {letter}) {choice}")


def solution(book: Book | None = None) -> dict[int, str]:
    return {n: q.right for n, q in QUESTIONS.items()}


def created_keys() -> list[str]:
    """The quiz uploads nothing."""
    return []


def check(book: Book | None, answer: Any, *, strict: bool = False) -> bool:
    """One ✓/✗ per question; a wrong letter says why it is wrong and where the course shows it."""
    if not_answered(answer):
        return False
    marks = Marks()
    if not isinstance(answer, dict):
        marks.expect(False, "the answer is a dict {question number: letter}", f"got {type(answer).__name__}")
        return marks.finish(strict=strict)
    for n, q in QUESTIONS.items():
        given = str(answer.get(n, answer.get(str(n), ""))).strip().lower().rstrip(")")
        if given == q.right:
            marks.expect(True, f"{n}. {given}) {q.choices[given]}")
        elif given in q.wrong:
            marks.expect(False, f"{n}. {given}) {q.choices[given]}",
                         f"{q.wrong[given]}; the answer is {q.right}), see {q.see}")
        else:
            marks.expect(False, f"{n}. {given or '(no answer)'}", f"choose one of {', '.join(q.choices)}")
    return marks.finish(strict=strict)
