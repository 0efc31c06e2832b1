"""The env file: 0600 from the first byte, KEY=VALUE lines a POSIX shell reads back unchanged."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.provision.envfile import EnvFileError, read_env_file, write_env_file

NASTY = {
    "WORKBOOK_APP_USERS": json.dumps({"alice": "p w'\"$x`id`\\", "bob": "a&b;c|d"}),
    "WORKBOOK_EMPTY": "",
    "WORKBOOK_SPACES": "  two  spaces  ",
    "WORKBOOK_PLAIN": "https://oss-cn-hangzhou.aliyuncs.com",
}


def test_mode_is_0600_even_over_a_wider_file(tmp_path: Path) -> None:
    path = tmp_path / "aliyun.env"
    path.write_text("OLD=1\n")
    os.chmod(path, 0o644)
    write_env_file(path, {"WORKBOOK_BUCKET": "b"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_env_file(path) == {"WORKBOOK_BUCKET": "b"}


def test_a_shell_sources_exactly_the_values_written(tmp_path: Path) -> None:
    path = tmp_path / "aliyun.env"
    write_env_file(path, NASTY)
    dump = ("import json, os; "
            "print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('WORKBOOK_')}))")
    out = subprocess.run(["sh", "-c", f'set -a; . "$1"; set +a; exec "{sys.executable}" -c "$2"', "sh",
                          str(path), dump], capture_output=True, text=True, check=True,
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert json.loads(out.stdout) == NASTY
    assert read_env_file(path) == NASTY


def test_missing_file_reads_empty_and_garbage_is_refused_without_echo(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "nope.env") == {}
    with pytest.raises(EnvFileError):
        write_env_file(tmp_path / "x.env", {"WORKBOOK_X": "line1\nline2"})
    bad = tmp_path / "bad.env"
    bad.write_text("WORKBOOK_ACCESS_KEY_SECRET='unterminated-secret-value\n")
    with pytest.raises(EnvFileError) as info:
        read_env_file(bad)
    assert "unterminated-secret-value" not in str(info.value)
