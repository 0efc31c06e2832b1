"""`make bench`: every benchmark in full, then one flat `build/bench/results.json` of their figures.

    .venv/bin/python benchmarks/run_all.py [--quick] [--only NAME,...]

Runs, in this order, each as its own command so one failing does not stop the others:
localcloud (data path vs the null sink), load, crash, fuzz, and, when their scripts exist,
appserver (benchmarks/appserver.py) and workbook (benchmarks/workbook.py). Each writes
`build/bench/<name>.json` with a `summary` object; the keys below are picked from those summaries.
A key whose benchmark is missing or failed is left out (and named on stdout), never invented.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import BENCH_DIR, PROJECT_ROOT, load_note, table, write_json

# benchmark -> the result keys it provides (the list). A name maps to benchmarks/<name>.py.
KEYS: dict[str, tuple[str, ...]] = {
    "localcloud": (
        "localcloud_put_mbps_64mib",
        "localcloud_get_mbps_64mib",
        "sink_put_mbps_64mib",
        "sink_get_mbps_64mib",
        "localcloud_put_ratio",
        "localcloud_get_ratio",
        "localcloud_peak_rss_mb",
    ),
    "load": ("load_clients", "load_objects", "load_errors", "load_mbps"),
    "crash": ("crash_rounds", "crash_acked_lost", "crash_partial_visible"),
    "fuzz": ("fuzz_requests", "fuzz_server_errors", "fuzz_crashes"),
    # Hooks: other engineers' scripts. Each must write build/bench/<name>.json with a "summary".
    "appserver": ("sts_cached_rps", "sts_cached_p99_ms", "noop_rps", "sts_calls_per_user_scope"),
    "workbook": ("workbook_seconds", "workbook_floor_seconds", "workbook_ratio", "cloud_run_seconds",
                 "cloud_run_ratio"),
}
MiB = 1024 * 1024


def localcloud_figures(doc: dict[str, Any]) -> dict[str, Any]:
    """The data-path keys from benchmarks/localcloud.py's JSON (its rows and memory section)."""
    out = dict(doc.get("summary", {}))
    for row in doc.get("results", []):
        if row.get("size") == 64 * MiB:
            op = row["op"].lower()
            out[f"localcloud_{op}_mbps_64mib"] = round(row["localcloud_mbps"], 1)
            out[f"sink_{op}_mbps_64mib"] = round(row["sink_mbps"], 1)
    at = (doc.get("memory", {}).get("localcloud") or {}).get("after_1gib") or {}
    if at.get("peak_rss_mb") is not None:  # the figure: peak RSS while 1 GiB goes through
        out["localcloud_peak_rss_mb"] = at["peak_rss_mb"]
    # The ratios go with the 64 MiB figures above them (local cloud ÷ sink); the worst size's ratio
    # stays in localcloud.json's own summary.
    for op in ("put", "get"):
        lc, sink = out.get(f"localcloud_{op}_mbps_64mib"), out.get(f"sink_{op}_mbps_64mib")
        if lc is not None and sink:
            out[f"localcloud_{op}_ratio"] = round(lc / sink, 3)
    return out


def run_one(name: str, quick: bool) -> tuple[int | None, float, dict[str, Any]]:
    script = PROJECT_ROOT / "benchmarks" / f"{name}.py"
    if not script.exists():
        return None, 0.0, {}
    out = BENCH_DIR / f"{name}.json"
    out.unlink(missing_ok=True)
    # The previous benchmark's written gigabytes go to disk now, not during this one's timing
    # (the workbook's fsyncs would otherwise queue behind them while its empty floor does not).
    os.sync()
    argv = [sys.executable, str(script), "--out", str(out), *(["--quick"] if quick else [])]
    print(f"\n=== {name}: {' '.join(argv[1:])}", flush=True)
    t0 = time.perf_counter()
    rc = subprocess.run(argv, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL).returncode
    took = time.perf_counter() - t0
    if not out.exists():
        return rc, took, {}
    doc = json.loads(out.read_text(encoding="utf-8"))
    return rc, took, localcloud_figures(doc) if name == "localcloud" else dict(doc.get("summary", {}))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/run_all.py", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="every benchmark's quick mode")
    p.add_argument("--only", default="", help="comma-separated names (default: all)")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results.json")
    args = p.parse_args(argv)
    names = [n for n in KEYS if not args.only or n in args.only.split(",")]
    results: dict[str, Any] = {}
    status: list[list[Any]] = []
    for name in names:
        rc, took, figures = run_one(name, args.quick)
        if rc is None:
            status.append([name, "no script yet (hook)", "-", ", ".join(KEYS[name])])
            continue
        missing = [k for k in KEYS[name] if not isinstance(figures.get(k), int | float)]
        results.update({k: figures[k] for k in KEYS[name] if k not in missing})
        status.append([name, "ok" if rc == 0 else f"exit {rc}", f"{took:.0f}", ", ".join(missing) or "-"])
    print("\n" + table(["benchmark", "status", "seconds", "missing keys"], status))
    print("\n" + table(["figure", "value"], [[k, v] for k, v in results.items()]))
    write_json(args.out, results)
    print(f"\n{load_note()}\nresults written to {args.out}")
    return 0 if all(row[1] in ("ok", "no script yet (hook)") for row in status) else 1


if __name__ == "__main__":
    raise SystemExit(main())
