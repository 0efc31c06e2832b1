"""The quick versions of the load, crash and fuzz benchmarks, as tests: every figure that must be zero is.

Each benchmark runs as its own command (`python benchmarks/<name>.py --quick --out F`), with its real
processes (the stack, or the local cloud alone for the crash run), and its JSON is read back. The
full runs (`make bench`) are the same code with bigger numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(name: str, out: Path, *args: str, timeout: float = 240) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--quick", "--out", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert out.exists(), f"{name} wrote no figures:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["_exit"], doc["_output"] = proc.returncode, proc.stdout[-3000:] + proc.stderr[-3000:]
    return doc


@pytest.mark.slow
def test_load_quick_ten_users_every_object_verified_no_errors(tmp_path: Path) -> None:
    doc = run_bench("load", tmp_path / "load.json")
    s = doc["summary"]
    assert (s["load_clients"], s["load_objects"], s["load_errors"]) == (10, 30, 0), doc["_output"]
    assert s["load_mbps"] > 0 and doc["baseline"]["errors"] == 0
    assert doc["_exit"] == 0, doc["_output"]


@pytest.mark.slow
def test_crash_quick_kill9_rounds_lose_no_ack_show_nothing_partial(tmp_path: Path) -> None:
    doc = run_bench("crash", tmp_path / "crash.json", "--rounds", "2")
    s, c = doc["summary"], doc["checks"]
    assert (s["crash_rounds"], s["crash_acked_lost"], s["crash_partial_visible"]) == (2, 0, 0), doc[
        "problems"
    ]
    assert (c["listing_mismatch"], c["mpu_resume_failed"], c["mpu_unknown_listed"]) == (0, 0, 0), doc[
        "problems"
    ]
    assert c["acked_requests"] > 0 and c["interrupted_requests"] > 0  # the kill did land mid-upload
    assert doc["_exit"] == 0, doc["_output"]


@pytest.mark.slow
def test_fuzz_quick_two_thousand_malformed_requests_no_5xx_no_crash(tmp_path: Path) -> None:
    doc = run_bench("fuzz", tmp_path / "fuzz.json")
    s, c = doc["summary"], doc["checks"]
    assert s["fuzz_requests"] >= 2000
    assert (s["fuzz_server_errors"], s["fuzz_crashes"]) == (0, 0), doc["samples"]
    assert (c["format_errors"], c["no_answer"], c["timeouts"]) == (0, 0, 0), doc["samples"]
    assert doc["_exit"] == 0, doc["_output"]
