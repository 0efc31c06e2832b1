"""Exercise of notebook 06: the arguments of a signed GET URL that lets alice download
`report.txt` for 60 seconds under the name `Quarterly report.txt`. Checked live: the app server
signs with the answer, plain HTTP fetches it, and the answer's headers and query are inspected."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from helpers import http_clients
from helpers.exercises._marks import mark, not_answered, verdict

if TYPE_CHECKING:
    from helpers.workbook import Book

KEY = "report.txt"
BODY = b"Q3 revenue: up and to the right\n"
NAME = "Quarterly report.txt"


def solution() -> dict[str, Any]:
    return {"key": KEY, "download_name": NAME, "expires": 60}


def check(book: Book, answer: Any, *, strict: bool = False) -> None:
    if answer is None:
        return not_answered()
    if not isinstance(answer, dict) or "key" not in answer:
        return verdict(
            [mark(False, "the answer is a dict with key, download_name and expires")],
            strict=strict,
            what="signed download",
        )
    alice = book.client("alice")
    alice.upload(KEY, BODY, content_type="text/plain")
    signed = alice.api.signed_url(
        "GET", str(answer["key"]), download_name=answer.get("download_name"), expires=answer.get("expires")
    )
    query = {k.lower(): v[0] for k, v in parse_qs(urlsplit(signed.url).query).items()}
    expires = query.get("x-oss-expires")
    r = http_clients.get(signed.url, headers=signed.headers, timeout=30)
    disposition = r.headers.get("content-disposition", "")
    results = [
        mark(
            r.status_code == 200 and r.content == BODY,
            f"the URL downloads users/alice/{KEY} (HTTP {r.status_code})",
        ),
        mark(expires == "60", f"it is valid for 60 s (x-oss-expires={expires})"),
        mark(
            "Quarterly%20report.txt" in disposition or NAME in disposition,
            f"the browser saves it as {NAME!r} (Content-Disposition: {disposition or 'none'})",
        ),
    ]
    return verdict(results, strict=strict, what="signed download")
