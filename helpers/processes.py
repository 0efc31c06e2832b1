"""The stack's processes: where their state lives, starting one detached until it is ready, and
stopping only processes the stack itself started. Shared by `helpers.stack` and `helpers.stack_cloud`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def state_dir() -> Path:
    """`$WORKBOOK_STATE_DIR`, else `.workbook/` at the project root."""
    return Path(os.environ.get("WORKBOOK_STATE_DIR") or PROJECT_ROOT / ".workbook").resolve()


def alive(pid: int) -> bool:
    """True while `pid` runs one of the stack's own servers (`python -m helpers.…`). A recorded pid whose
    process is gone may be reused by any other process (pid_max is often 32768): that one is not ours,
    so `down` must never signal it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False   # another user's process: never one this stack started
    with contextlib.suppress(OSError):   # no /proc (not Linux): trust the pid
        if b"helpers." not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False
    # A zombie child still answers kill(0); ask for its state instead.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def spawn(args: list[str], log_path: Path, ready: Path, timeout: float,
           env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """Start `python -m <args>` detached, wait for its ready file, return (process, ready JSON)."""
    ready.unlink(missing_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", *args, "--ready-file", str(ready)], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                cwd=PROJECT_ROOT, env=env)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise RuntimeError(f"{args[0]} did not start; see {log_path}")
        time.sleep(0.05)
    return proc, json.loads(ready.read_text(encoding="utf-8"))


def stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if not alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
