"""The `Exchange` record: one observed request and its answer, shared by the trace recorder
(`helpers.trace`), the diagram renderer (`helpers.sequence_diagram`) and the app server's trace log.

Who may appear in a diagram is fixed here (`PARTICIPANTS`): the four components of the direct-upload
architecture, and the developer's own calls from the notebook kernel (`Developer`: the workbook's
cleanup and its AssumeRole with the developer's RAM key), which are not the app server's.
Every field is masked on the way in (`Exchange.create`, `Exchange.from_json`), by `helpers.logging`
only. Imports nothing from `helpers` but `helpers.logging`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Final
from urllib.parse import urlsplit

from helpers.logging import mask_body as _mask_body
from helpers.logging import mask_header_once, mask_headers, mask_text, mask_url

# Component name -> label in diagrams. Order is left to right.
LABELS: Final = {"Client": "Client", "AppServer": "App server", "STS": "STS", "OSS": "OSS",
                 "Developer": "Developer (notebook kernel)"}
PARTICIPANTS: Final = tuple(LABELS)
MAX_BODY_CHARS = 2000
# A trace also masks STS key ids in JSON bodies (on top of helpers.logging's secret fields).
TRACE_JSON_FIELDS: Final = frozenset({"accesskeyid"})


def mask_body(content: bytes | str | None, content_type: str = "") -> str:
    """`helpers.logging.mask_body` as traces use it: bounded, STS key ids masked too."""
    return _mask_body(content, content_type, limit=MAX_BODY_CHARS, also=TRACE_JSON_FIELDS)


def path_of(url: str) -> str:
    """Path plus query of a URL (or of a path), with secret query values masked."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return mask_url(path + ("?" + parts.query if parts.query else ""))


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer as seen by the side that recorded it. Build with `create()`,
    which masks; `t` is when the request left, `end` when the answer arrived (epoch seconds).
    `status` is None when no answer came (transport error). `note` is the error code of a
    refusal (`AccessDenied`) or a short outcome (`verified, recorded users/alice/a.txt`)."""

    t: float
    source: str
    target: str
    method: str
    path: str
    status: int | None
    note: str = ""
    end: float | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    reply: str = ""

    def __post_init__(self) -> None:
        if self.source not in PARTICIPANTS or self.target not in PARTICIPANTS:
            raise ValueError(f"participants are {', '.join(PARTICIPANTS)}")

    @classmethod
    def create(cls, *, t: float, source: str, target: str, method: str, path: str, status: int | None,
               note: str = "", end: float | None = None, headers: Mapping[str, str] | Iterable[Any] = (),
               body: bytes | str | None = None, body_type: str = "", reply: bytes | str | None = None,
               reply_type: str = "") -> Exchange:
        """An exchange with every field masked (the only way secrets could get in is through here)."""
        masked_headers = tuple(mask_headers(headers).items()) if headers else ()
        return cls(t=t, source=source, target=target, method=method.upper(), path=path_of(path),
                   status=status, note=mask_text(note), end=end if end is not None and end >= t else None,
                   headers=masked_headers, body=mask_body(body, body_type),
                   reply=mask_body(reply, reply_type))

    @property
    def finished(self) -> float:
        return self.t if self.end is None else self.end

    @property
    def refused(self) -> bool:
        return self.status is None or self.status >= 400

    @property
    def identity(self) -> tuple[Any, ...]:
        """What makes two records the same exchange (one call pulled twice from the app server)."""
        return (self.t, self.source, self.target, self.method, self.path, self.status)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["headers"] = [list(pair) for pair in self.headers]
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Exchange:
        """Re-mask on the way in too: a remote side is trusted for content, not for hygiene."""
        status = doc.get("status")
        end = doc.get("end")
        ex = cls.create(t=float(doc["t"]), source=str(doc["source"]), target=str(doc["target"]),
                        method=str(doc["method"]), path=str(doc["path"]),
                        status=None if status is None else int(status), note=str(doc.get("note", "")),
                        end=None if end is None else float(end),
                        body=str(doc.get("body", "")), reply=str(doc.get("reply", "")))
        headers = tuple(mask_header_once(str(k), str(v)) for k, v in doc.get("headers") or ())
        return replace(ex, headers=headers)


__all__ = ["LABELS", "MAX_BODY_CHARS", "PARTICIPANTS", "Exchange", "mask_body", "path_of"]
