"""Exercise of notebook 06: a GET URL, signed by alice's app with its download token, that lets a web view
SHOW `shared-report.txt` for 60 seconds instead of saving it. The object was stored as a download
(`application/octet-stream`, `Content-Disposition: attachment`), so the URL must override both headers
with signed response-* parameters. The answer: {"expires": <seconds>, "params": {<query parameter>: <value>}}.

`check` names each wrong or missing parameter, then signs the URL with alice's download-scope STS token
(`helpers.lessons.download.app_signed_get`), fetches it with plain HTTP and reads the headers OSS sent.
Runs on both targets.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from helpers.exercises.marks import Marks, not_answered
from helpers.protocol.scopes import user_prefix
from helpers.refusals import error_text

KEY = "shared-report.txt"
BODY = b"Quarterly report\nRevenue: up. Costs: down.\n"
STORED = {"Content-Type": "application/octet-stream",
          "Content-Disposition": 'attachment; filename="report.txt"'}
WANT_TYPE = "text/plain; charset=utf-8"
EXPIRES = 60


def solution(book: Any = None) -> dict[str, Any]:
    return {"expires": EXPIRES, "params": {"response-content-type": WANT_TYPE,
                                           "response-content-disposition": "inline"}}


def created_keys() -> list[str]:
    return [f"{user_prefix('alice')}{KEY}"]


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    """The parameters one by one, then the URL for real: 200, the bytes, the two headers OSS sent."""
    from helpers.client.results import call_oss2
    from helpers.lessons.download import RESPONSE_OVERRIDES, app_signed_get, fetch

    if not_answered(answer):
        return False
    marks = Marks()
    if not marks.expect(isinstance(answer, dict) and isinstance(answer.get("params"), dict),
                        'the answer is {"expires": ..., "params": {...}}'):
        return marks.finish(strict=strict)
    params = {str(k).strip(): str(v).strip() for k, v in answer["params"].items()}
    for name in params:
        if name.lower() not in RESPONSE_OVERRIDES:
            hint = f"OSS's override is response-{name.lower()}" if f"response-{name.lower()}" in \
                RESPONSE_OVERRIDES else "not one of OSS's response-* parameters"
            marks.expect(False, f"{name!r} is a response-* parameter", hint)
    expires = answer.get("expires")
    marks.expect(expires == EXPIRES, f"valid for {EXPIRES} s (x-oss-expires)",
                 "" if expires == EXPIRES else f"got {expires!r}")
    if marks.failed:
        return marks.finish(strict=strict)

    alice = book.client("alice")
    bucket = alice.oss2_bucket("upload")
    full = alice.full_key(KEY, "upload")
    call_oss2(lambda: bucket.put_object(full, BODY, headers=dict(STORED)))
    print(f"(stored {full} as {STORED['Content-Type']}, {STORED['Content-Disposition']})")
    try:
        url = app_signed_get(alice, KEY, int(expires), params)
        response = fetch(book, url)
    except Exception as exc:  # OSS refusing the URL is an answer to report
        marks.expect(False, "OSS serves the URL", error_text(exc))
        return marks.finish(strict=strict)
    query = {k.lower(): v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    marks.expect(query.get("x-oss-expires") == str(EXPIRES), f"the URL says x-oss-expires={EXPIRES}")
    marks.expect(response.status_code == 200 and response.content == BODY,
                 f"the URL downloads {full}", f"HTTP {response.status_code}")
    got_type = response.headers.get("Content-Type", "")
    marks.expect(got_type == WANT_TYPE, f"Content-Type: {WANT_TYPE} (the web view shows text)",
                 "" if got_type == WANT_TYPE else f"OSS sent {got_type or 'none'}")
    disposition = response.headers.get("Content-Disposition", "")
    inline = disposition.split(";", 1)[0].strip().lower() == "inline"
    marks.expect(inline, "Content-Disposition: inline (shown, not saved)",
                 "" if inline else f"OSS sent {disposition or 'none'}")
    return marks.finish(strict=strict)
