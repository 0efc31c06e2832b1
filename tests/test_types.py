"""mypy, configured in pyproject.toml, finds nothing in helpers/: strict for the local cloud, the
protocol package, provisioning, processes, the deploy sequence and the exchange record; function
bodies checked everywhere else.

One mypy run over every target (pyproject's `files`); the cache lives under build/ (`cache_dir`),
so a second run takes a few seconds.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRICT = {"helpers.localcloud.*", "helpers.protocol.*", "helpers.provision.*", "helpers.processes",
          "helpers.deploy_sequence", "helpers.exchange"}


def test_the_configuration_covers_helpers_and_its_strict_parts() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["files"] == ["helpers"] and config["check_untyped_defs"] is True
    strict = [o for o in config["overrides"] if o.get("disallow_untyped_defs")]
    assert len(strict) == 1 and STRICT <= set(strict[0]["module"])
    # `strict = true` in an override turns strict mode on for every module (mypy 2.4): spelled out instead.
    assert all("strict" not in o for o in config["overrides"])


def test_mypy_clean_on_helpers() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
