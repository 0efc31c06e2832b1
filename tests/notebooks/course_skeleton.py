"""The course elements every notebook carries (issue 10), as problems found in one notebook.

- Overview: "**After this notebook you can:**" followed by at least two bullet lines.
- Prerequisites: "Time: about N minutes", within ±30 % of `estimated_minutes` (reading at 150 words a
  minute, half a minute for each code cell, ten for the exercise: about 4 hours for the course, as a
  careful first reading takes).
- "## Resources" (after Summary, before Cleaning up): at least three links to Alibaba Cloud's official
  documentation (help.aliyun.com or alibabacloud.com).
- "**What's next:**" in Summary.
- A link to the glossary (`glossary.md`).
"""

from __future__ import annotations

import re
from typing import Any

OFFICIAL = re.compile(r"\]\((https://(?:help\.aliyun\.com|(?:www\.)?alibabacloud\.com)/[^)\s]+)\)")
TIME = re.compile(r"Time: about (\d+) minutes")
WORDS_PER_MINUTE = 150
EXERCISE_MINUTES = 10
CODE_CELL_MINUTES = 0.5


def sections(nb: Any) -> dict[str, str]:
    """Markdown text under each `## ` heading (the title cell's text under "")."""
    out: dict[str, str] = {}
    current = ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                out.setdefault(current, "")
            else:
                out[current] = out.get(current, "") + line + "\n"
    return out


def estimated_minutes(nb: Any) -> float:
    words = sum(len(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    code = sum(1 for c in nb.cells if c.cell_type == "code")
    exercise = EXERCISE_MINUTES if any(c.cell_type == "markdown" and "## Exercise" in c.source
                                       for c in nb.cells) else 0
    return words / WORDS_PER_MINUTE + CODE_CELL_MINUTES * code + exercise


def problems(nb: Any) -> list[str]:
    found: list[str] = []
    s = sections(nb)
    overview = s.get("Overview", "")
    m = re.search(r"\*\*After this notebook you can:\*\*\s*\n((?:\s*[-*] .+\n)+)", overview)
    if not m or len(re.findall(r"^\s*[-*] ", m.group(1), re.M)) < 2:
        found.append("Overview lacks '**After this notebook you can:**' with at least two bullets")
    t = TIME.search(s.get("Prerequisites", ""))
    want = estimated_minutes(nb)
    if not t:
        found.append(f"Prerequisites lack 'Time: about N minutes' (estimate: {want:.0f})")
    elif not 0.7 * want <= int(t.group(1)) <= 1.3 * want:
        found.append(f"stated time {t.group(1)} min is not within ±30 % of the estimate {want:.0f} min")
    links = set(OFFICIAL.findall(s.get("Resources", "")))
    if len(links) < 3:
        found.append(f"Resources has {len(links)} official documentation links, needs at least 3")
    headings = list(s)
    if "Resources" in headings and not (
        "Summary" in headings and "Cleaning up" in headings
        and headings.index("Summary") < headings.index("Resources") < headings.index("Cleaning up")
    ):
        found.append("Resources must come after Summary and before Cleaning up")
    if "**What's next:**" not in s.get("Summary", ""):
        found.append("Summary lacks a '**What's next:**' line")
    if not any(c.cell_type == "markdown" and "](glossary.md" in c.source for c in nb.cells):
        found.append("no link to the glossary (glossary.md)")
    return found
