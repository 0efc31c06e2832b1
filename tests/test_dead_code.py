"""No dead code in helpers/localcloud: vulture (pinned) finds nothing unused there.

Everything in helpers/, tests/ and benchmarks/ counts as a use, so a helper only the tests call stays.
Names reached in ways vulture cannot see are listed here with the reason; the OSS handlers are reached
through the operation table's import paths, so their names come from that table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers.localcloud.oss.routing import SERVED

ROOT = Path(__file__).resolve().parents[1]
NOT_SEEN_BY_VULTURE = [
    "should_exit", "force_exit",   # uvicorn.Server attributes set by server.py
    "on_*",                        # python-multipart parser callbacks (oss.post_form)
]


def test_no_unused_code_in_localcloud() -> None:
    handlers = sorted({op.handler.rpartition(".")[2] for op in SERVED.values()})
    result = subprocess.run(
        [sys.executable, "-m", "vulture", "helpers", "tests", "benchmarks", "--exclude", "*/node_modules/*",
         "--min-confidence", "60", "--ignore-names", ",".join(NOT_SEEN_BY_VULTURE + handlers)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    unused = [line for line in result.stdout.splitlines() if line.startswith("helpers/localcloud/")]
    assert unused == [], "\n".join(unused)
