"""`stack down` signals only the stack's own servers: a recorded pid that now belongs to another
process (pids wrap at pid_max, 32768 here) is left alone."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from pathlib import Path

from helpers import stack


def test_down_leaves_a_reused_pid_alone(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        info = stack.StackInfo(oss_endpoint="http://127.0.0.1:9", sts_endpoint="http://127.0.0.1:9",
                               appserver_url="http://127.0.0.1:9", bucket="workbook", region="cn-hangzhou",
                               role_arn="acs:ram::1:role/r", credentials_file=str(tmp_path / "c.json"),
                               localcloud_pid=stranger.pid, localcloud_log="", appserver_pid=stranger.pid,
                               appserver_log="")
        (tmp_path / "stack.json").write_text(json.dumps(asdict(info)), encoding="utf-8")
        assert stack.status(tmp_path)["running"] is False
        assert stack.down(tmp_path, timeout=1) is False
        assert stranger.poll() is None, "stack down killed a process it did not start"
    finally:
        stranger.kill()
        stranger.wait()
