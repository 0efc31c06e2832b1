"""Small pieces the load, crash and fuzz benchmarks share: process start-up, machine facts, the JSON file.

Benchmarks run as scripts (`python benchmarks/<name>.py`), so this module is imported by its bare
name from the benchmarks directory. It imports nothing from `helpers` (each script decides which
parts of the project it drives).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT_ROOT / "build" / "bench"
MB = 1_000_000
KiB = 1024
MiB = 1024 * KiB


def machine() -> dict[str, Any]:
    """What the figures depend on: CPUs, the load average now (the machine is shared), Python."""
    return {
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load_note() -> str:
    return f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def spawn_localcloud(
    data: Path, ready: Path, log: Path, *, oss_port: int = 0, sts_port: int = 0, timeout: float = 30.0
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """`python -m helpers.localcloud serve` on `data`; waits for its ready file; (process, ready JSON)."""
    ready.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "helpers.localcloud",
        "serve",
        "--data",
        str(data),
        "--ready-file",
        str(ready),
        "--oss-port",
        str(oss_port),
        "--sts-port",
        str(sts_port),
    ]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT
        )
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
            raise RuntimeError(
                f"local cloud did not start; see {log}:\n{log.read_text(errors='replace')[-2000:]}"
            )
        time.sleep(0.02)
    return proc, dict(json.loads(ready.read_text(encoding="utf-8")))


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain text table, columns right-aligned except the first."""
    cells = [[str(h) for h in headers]] + [
        [f"{c:.2f}" if isinstance(c, float) else str(c) for c in r] for r in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append(
            " | ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))
        )
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)
