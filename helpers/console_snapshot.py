"""What the token console (`helpers.widgets.TokenConsole`) shows, as plain data and static text: the
last action's `Result`, the rows of its snapshot, the snapshot's `text/html` and `text/plain`, and the
lines of `report()`. Static output, so a page without a kernel or widget state (the HTML export,
GitHub) shows a table; stable text, so committed outputs compare. Never a secret: every value here
arrives masked.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

TITLE = "Token console (a static snapshot; live in JupyterLab)"


@dataclass
class Result:
    """What the last action did: shown in the widgets and by `report()` (never a secret)."""

    action: str = ""
    user: str = ""
    mode: str = ""
    ok: bool = True
    lines: list[str] = field(default_factory=list)  # masked, stable
    policy: dict[str, Any] | None = None
    diagram: str = ""  # Mermaid text of the exchanges


def policy_lines(policy: dict[str, Any] | None) -> list[str]:
    """One plain line per statement of a session policy: effect, actions, where (and the prefix condition)."""
    def listed(value: Any) -> str:
        return ", ".join(value if isinstance(value, list) else [str(value)])

    lines = []
    for st in (policy or {}).get("Statement", []):
        prefix = st.get("Condition", {}).get("StringLike", {}).get("oss:Prefix")
        what = f"{listed(st.get('Action', []))} on {listed(st.get('Resource', []))}"
        where = f" (prefix {listed(prefix)})" if prefix else ""
        lines.append(f"{st.get('Effect', 'Allow')} {what}{where}")
    return lines


def snapshot_rows(r: Result, *, where: str, user: str, source: str, token_state: str,
                  countdown: str) -> list[tuple[str, str]]:
    """(field, value) rows of what the console shows after `r`, the token in `token_state`."""
    issued = r.action == "issue token" and r.ok
    rows = [("Where", where), ("User", user), ("Token from", source),
            ("Token issued", "; ".join(r.lines) if issued else "none yet: click “Issue token”")]
    rows += [("It can", line) for line in policy_lines(r.policy)] if issued else []
    if token_state == "expired":
        rows.append(("Token state", countdown or "expired: issue a new token"))
    if r.action and not issued:
        outcome = "done" if r.ok else "refused"
        rows.append(("Last action", f"{r.action}: {outcome} — " + "; ".join(r.lines)))
    return rows


def snapshot_bundle(rows: list[tuple[str, str]]) -> dict[str, str]:
    """The static `text/html` table and `text/plain` lines of `rows` (escaped)."""
    cells = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                    for k, v in rows)
    return {"text/html": ("<div class='token-console-snapshot'><b>Token console</b> (a static snapshot; "
                          f"live in JupyterLab)<table>{cells}</table></div>"),
            "text/plain": TITLE + "\n" + "\n".join(f"  {k:<13} {v}" for k, v in rows)}


def report_lines(r: Result, token_state: str) -> list[str]:
    """`report()`'s stable text of `r` (masked values, key names, codes; no timings)."""
    if not r.action:
        return ["Nothing done yet."]
    lines = [f"last action: {r.action} — {'done' if r.ok else 'refused'} (user {r.user}; {r.mode})"]
    lines += [f"  {line}" for line in r.lines]
    if r.policy:
        lines.append("session policy:")
        lines += ["  " + line for line in json.dumps(r.policy, indent=2).splitlines()]
    shown = {"none": "no token", "expired": "expired"}.get(token_state, "counting down")
    lines.append(f"countdown: {shown}; diagram shown: {'yes' if r.diagram else 'no'}")
    return lines
