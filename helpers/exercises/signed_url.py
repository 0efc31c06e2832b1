"""Exercise of notebook 02: a signed URL that lets alice download `report.pdf` for 60 s, saved under a
download name.

`check` takes the SignedUrl the app server returned, GETs it with plain HTTP (200, the stored bytes,
a Content-Disposition naming the file), checks that it lives at most 60 s, and on the local cloud
moves the clock 61 s to see OSS refuse it (then moves the clock back).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from helpers import http_clients
from helpers.client.results import error_fields
from helpers.exercises.marks import Marks, not_answered

REPORT = b"%PDF-1.4\n% a tiny report for the exercise\n"
KEY = "users/alice/report.pdf"


def solution(book: Any) -> Any:
    """Run by the notebook with `solutions=True`: ask the app server, as alice's app would."""
    return book.client("alice").api.signed_url("GET", "report.pdf", expires=60, download_name="report.pdf")


def _lifetime(url: str) -> int | None:
    q = dict(parse_qsl(urlsplit(url).query))
    if "x-oss-expires" in q:
        return int(q["x-oss-expires"])
    return None


def check(book: Any, answer: Any, *, strict: bool = False) -> bool:
    if not_answered(answer):
        return False
    marks = Marks()
    if not marks.expect(hasattr(answer, "url") and getattr(answer, "method", "") == "GET",
                        "the answer is a signed GET URL from the app server (api.signed_url)"):
        return marks.finish(strict=strict)
    marks.expect(answer.key == KEY, f"it names {KEY}", f"it names {answer.key}")
    book.client("alice").upload_signed("report.pdf", REPORT, "application/pdf")
    with http_clients.client(timeout=30) as session:
        r = session.get(answer.url, headers=answer.headers)
        disposition = r.headers.get("content-disposition", "")
        marks.expect(r.status_code == 200 and r.content == REPORT, "GET returns the report",
                     f"HTTP {r.status_code}")
        marks.expect("attachment" in disposition and "filename" in disposition,
                     "the browser is told to save it under a file name",
                     disposition or "no Content-Disposition")
        lifetime = _lifetime(answer.url)
        if lifetime is not None:
            marks.expect(lifetime <= 60, "it lives at most 60 s", f"x-oss-expires={lifetime}")
        if book.local_only("moving the clock past the URL's expiry"):
            book.advance_clock(61, quiet=True)
            try:
                late = session.get(answer.url, headers=answer.headers)
            finally:
                book.advance_clock(-61, quiet=True)
            code = error_fields(late.content).get("Code", "")
            marks.expect(late.status_code == 403, "61 s later OSS refuses it", f"{late.status_code} {code}")
    return marks.finish(strict=strict)
