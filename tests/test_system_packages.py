"""`scripts/system_packages.sh`, which `make test` runs first: on a machine without Chromium it installs it
(root with apt) or stops at once with the exact command, never a traceback halfway through the suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "system_packages.sh"


def run(env: dict[str, str], *, as_nobody: bool) -> subprocess.CompletedProcess[str]:
    if not as_nobody:
        return subprocess.run(["bash", str(SCRIPT)], env={**os.environ, **env}, capture_output=True,
                              text=True, timeout=60)
    # The clone may sit in a folder only root can enter (mktemp -d is 0700): nobody runs a readable copy.
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        script = Path(tmp) / SCRIPT.name
        shutil.copyfile(SCRIPT, script)
        os.chmod(script, 0o644)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", str(script)]
        return subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
                              cwd=tmp)


def test_nothing_to_do_when_everything_is_there() -> None:
    done = run({}, as_nobody=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_without_root_it_stops_at_once_with_the_exact_command() -> None:
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        pytest.fail("this test drops to an unprivileged user: it needs root and setpriv (util-linux)")
    done = run({"CHROMIUM": "/nonexistent/chromium"}, as_nobody=True)
    assert done.returncode == 2
    assert "make test needs these system packages: chromium fonts-wqy-microhei" in done.stderr
    assert ("sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
            "chromium fonts-wqy-microhei'") in done.stderr
    assert "Traceback" not in done.stderr
