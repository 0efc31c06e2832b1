"""What provisioning tells the user: one line per resource, and one line per failure.

    report = Report()                       # prints as it goes (stdout), never a secret
    report.created("bucket", name)          # also remembered: `report.made` lists it
    report.unchanged("role", name)
    raise StepFailed("create the role", exc)  # the service's error code and HTTP status, no traceback

`describe` turns any SDK error (oss2, tea/darabonba) into (code, HTTP status): the service's own error
code when it answered, `Unreachable` when it did not.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from helpers.logging import mask_text


def message(exc: BaseException) -> str:
    """The service's own error message (first line, masked, at most 160 characters), or ''."""
    import oss2

    if describe(exc)[0] == "Unreachable":
        return "no connection (check the WORKBOOK_*_ENDPOINT variables, the region and the network)"
    text = ""
    if isinstance(exc, oss2.exceptions.OssError) and not isinstance(exc, oss2.exceptions.RequestError):
        text = str(exc.message or "")
    elif hasattr(exc, "code") and isinstance(message := getattr(exc, "message", None), str):
        text = message    # tea: "code: 404, <Message> request id: …"
    line = mask_text(text.strip().splitlines()[0]) if text.strip() else ""
    return line[:160]


def describe(exc: BaseException) -> tuple[str, int | None]:
    """(error code, HTTP status) of an SDK exception; status None when no service answered."""
    import oss2
    from Tea.exceptions import TeaException, UnretryableException

    if isinstance(exc, oss2.exceptions.RequestError):   # connection refused, DNS, timeout
        return "Unreachable", None
    if isinstance(exc, oss2.exceptions.OssError):
        return str(exc.code or type(exc).__name__), int(exc.status)
    if isinstance(exc, UnretryableException):            # tea wraps transport errors in this
        return "Unreachable", None
    if isinstance(exc, TeaException):
        status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None)
        return str(exc.code or type(exc).__name__), int(status) if status else None
    return type(exc).__name__, None


class StepFailed(Exception):
    """A provisioning step the service refused (or could not be reached for)."""

    def __init__(self, step: str, exc: BaseException | None = None, *, code: str = "",
                 status: int | None = None, hint: str = "") -> None:
        if exc is not None:
            code, status = describe(exc)
            hint = hint or message(exc)
        self.step, self.code, self.status, self.hint = step, code, status, hint
        self.report: Report | None = None   # what the run had done before failing (set by the caller)
        super().__init__(self.line())

    def line(self) -> str:
        if self.status:
            where = f"HTTP {self.status}"
        else:   # no HTTP status: the service did not answer, or we refused before asking it
            where = "no answer" if self.code == "Unreachable" else "checked before sending"
        text = f"error: {self.step}: {self.code} ({where})"
        return f"{text}: {self.hint}" if self.hint else text


@dataclass
class Report:
    """The lines printed so far and what this run created (for the failure summary)."""

    quiet: bool = False
    lines: list[str] = field(default_factory=list)
    made: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def _say(self, verb: str, kind: str, name: str) -> None:
        line = f"{verb:<9} {kind} {name}"
        self.lines.append(line)
        if not self.quiet:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def created(self, kind: str, name: str) -> None:
        self.made.append(f"{kind} {name}")
        self._say("created", kind, name)

    def updated(self, kind: str, name: str) -> None:
        self._say("updated", kind, name)

    def unchanged(self, kind: str, name: str) -> None:
        self._say("unchanged", kind, name)

    def deleted(self, kind: str, name: str) -> None:
        self.removed.append(f"{kind} {name}")
        self._say("deleted", kind, name)

    def absent(self, kind: str, name: str) -> None:
        self._say("absent", kind, name)
