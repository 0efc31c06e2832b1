"""The pinned ali-oss package (tests/js/package.json + package-lock.json), installed on demand.

`ensure_node_modules()` runs `npm ci` into tests/js when node_modules is missing or holds another
version than the lock file pins, so the Node and browser tests never skip for want of it. Only the
lock file is committed; node_modules is git-ignored.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"
NPM_CI_TIMEOUT = 600


def pinned_version(package: str = "ali-oss") -> str:
    """The exact version package-lock.json pins for `package`."""
    lock = json.loads((JS_DIR / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"][f"node_modules/{package}"]["version"])


def installed_version(package: str = "ali-oss") -> str | None:
    path = JS_DIR / "node_modules" / package / "package.json"
    if not path.is_file():
        return None
    return str(json.loads(path.read_text(encoding="utf-8"))["version"])


def ensure_node_modules() -> Path:
    """tests/js/node_modules with the pinned ali-oss (running `npm ci` if needed); fails if npm fails."""
    # One installer at a time: two pytest processes must not run `npm ci` into the same folder.
    with open(JS_DIR / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_version() != pinned_version():
            npm = shutil.which("npm")
            assert npm, "npm is missing: apt-get install npm (Node.js ≥ 18)"
            proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=JS_DIR,
                                  capture_output=True, text=True, timeout=NPM_CI_TIMEOUT, check=False)
            assert proc.returncode == 0, f"npm ci failed in {JS_DIR}:\n{proc.stderr[-2000:]}"
    assert installed_version() == pinned_version()
    return JS_DIR / "node_modules"
