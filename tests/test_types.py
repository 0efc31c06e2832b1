"""mypy, configured in pyproject.toml (strict for helpers/localcloud), finds nothing.

The cache lives under build/ (pyproject's `cache_dir`), so a second run takes a few seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_clean_on_localcloud() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "helpers/localcloud"], cwd=ROOT,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
