"""Mermaid sequence diagrams of recorded exchanges (`helpers.exchange.Exchange`), and their display.

One line per request (`->>`) and per answer (`-->>`), placed by time so that an exchange made while
another was open nests inside it; refusals get a note with status and code. The text is escaped for
Mermaid, so what a client sent cannot break the diagram. The four components are always drawn;
the developer's own calls from the notebook kernel get their participant only when there are some.
Imports `helpers.exchange` only (not `helpers.trace`, which imports this module).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from helpers.exchange import LABELS, PARTICIPANTS, Exchange

ALWAYS_DRAWN: Final = ("Client", "AppServer", "STS", "OSS")
MAX_LABEL_CHARS = 90

_ESCAPES: Final = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", '"': "#quot;"}
_ESCAPE_RE: Final = re.compile("[#;<>\"]")


def escape(text: str) -> str:
    """Message text safe for one Mermaid sequenceDiagram line, as entity codes in one pass: `#`
    (it starts entity codes), `;` (a statement separator), `<` `>` (HTML labels) and quotes; line
    breaks become spaces (a message ends at the end of its line)."""
    text = " ".join(str(text).split())
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


def _short(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mermaid(exchanges: Iterable[Exchange], *, title: str | None = None) -> str:
    """`sequenceDiagram` text: `->>` for each request, `-->>` for its answer, placed by time, so an
    exchange made while another was open (AssumeRole inside GET /api/sts, the callback inside the
    upload) nests; refusals get a note with status and code (`403 AccessDenied`)."""
    items = sorted(exchanges, key=lambda e: e.t)
    ends, depth = _nested_ends(items)
    events: list[tuple[float, int, int, int, Exchange]] = []
    for i, ex in enumerate(items):
        events.append((ex.t, 0, depth[i], i, ex))
        events.append((ends[i], 1, -depth[i], i, ex))
    events.sort(key=lambda e: e[:4])
    # A request always precedes its own answer even when both carry the same instant.
    seen: set[int] = set()
    ordered: list[tuple[int, int, Exchange]] = []
    pending: dict[int, tuple[int, int, Exchange]] = {}
    for _, kind, _depth, i, ex in events:
        if kind == 1 and i not in seen:
            pending[i] = (i, kind, ex)
            continue
        ordered.append((i, kind, ex))
        if kind == 0:
            seen.add(i)
            if i in pending:
                ordered.append(pending.pop(i))
    lines = ["sequenceDiagram"]
    if title:
        lines.append(f"    title {escape(title)}")
    used = {ex.source for ex in items} | {ex.target for ex in items}
    for name in PARTICIPANTS:
        if name in ALWAYS_DRAWN or name in used:
            lines.append(f"    participant {name} as {escape(LABELS[name])}")
    for _i, kind, ex in ordered:
        if kind == 0:
            lines.append(f"    {ex.source}->>{ex.target}: {escape(_short(f'{ex.method} {ex.path}'))}")
            continue
        status = "no answer" if ex.status is None else str(ex.status)
        if ex.refused:
            lines.append(f"    {ex.target}-->>{ex.source}: {escape(status)}")
            note = f"{status} {ex.note}".strip()
            lines.append(f"    Note over {ex.source},{ex.target}: {escape(_short(note))}")
        else:
            label = f"{status} {ex.note}".strip()
            lines.append(f"    {ex.target}-->>{ex.source}: {escape(_short(label))}")
    return "\n".join(lines) + "\n"


def _nested_ends(items: list[Exchange]) -> tuple[list[float], list[int]]:
    """When each answer is drawn, and how deep each exchange nests.

    An exchange that a server makes while answering another (OSS calling the app server back during
    an upload, the app server calling STS during GET /api/sts) must be answered before its parent is.
    The two ends are stamped by different processes, so a child's answer can appear a hair after its
    parent's: it is drawn at the parent's end at the latest, and ties put the deeper answer first.
    """
    ends = [ex.finished for ex in items]
    depth = [0] * len(items)
    for i, child in enumerate(items):
        for j in range(i - 1, -1, -1):
            parent = items[j]
            if child.source == parent.target and parent.t <= child.t <= ends[j]:
                ends[i] = min(ends[i], ends[j])
                depth[i] = depth[j] + 1
                break
    return ends, depth


def to_markdown(text: str) -> str:
    """A fenced ```mermaid block, which JupyterLab 4 (and GitHub) render as a diagram."""
    return f"```mermaid\n{text.rstrip()}\n```\n"


def display_mermaid(text: str) -> Any:
    """Show a diagram in a notebook (IPython Markdown); returns the display object."""
    from IPython.display import Markdown, display

    shown = Markdown(to_markdown(text))
    display(shown)
    return shown
