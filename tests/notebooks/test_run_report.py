"""`make run`'s report (helpers/run.py, helpers/run_report.py): a failure's first line shown whole in the
table, and `--junit FILE` with one testcase per notebook, masked error text and a non-zero exit; on the
local target, real notebooks leave no object behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import oss2
import pytest

from helpers import run, stack
from helpers.workbook import ALIYUN_ENV

from .test_runner import _notebook

SECRET = "LeakedAccessKeySecretValue0123456789abcd"
LONG_ERROR = ("target 'aliyun' needs these environment variables (see the README): " + ", ".join(ALIYUN_ENV))


def test_table_shows_the_first_line_whole_wrapped_at_spaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _notebook(tmp_path, "00_env.ipynb", f"raise RuntimeError({LONG_ERROR!r} + '\\nsecond line')")
    result, _ = run.execute(path, tmp_path / "out", html=False)
    assert result.status == f"FAILED: RuntimeError in cell 1: {LONG_ERROR}"
    run.print_table([result], columns=100)
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100 and len(lines) > 2
    words = " ".join(line.strip() for line in lines[1:]).split()
    for name in ALIYUN_ENV:  # every name on one line, none cut
        assert f"{name}," in words or name in words


def test_junit_report_masks_errors_and_run_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBOOK_ACCESS_KEY_SECRET", SECRET)  # as on Alibaba Cloud: the kernel has it
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    _notebook(notebooks, "00_ok.ipynb", "print('fine')")
    _notebook(notebooks, "01_fails.ipynb", "import os",
              "raise PermissionError('refused https://b.oss/k?x-oss-signature=abcdef0123456789abcdef&x=1 '\n"
              "                      'with ' + os.environ['WORKBOOK_ACCESS_KEY_SECRET'])")
    _notebook(notebooks, "02_noisy.ipynb",
              "import os, sys\nprint('key', os.environ['WORKBOOK_ACCESS_KEY_SECRET'], file=sys.stderr)")
    junit = tmp_path / "report" / "junit.xml"
    # --target aliyun: these notebooks need no stack, so none is started.
    code = run.main(["--notebooks-dir", str(notebooks), "--out", str(tmp_path / "out"), "--junit", str(junit),
                     "--target", "aliyun"])
    assert code == 1
    text = junit.read_text(encoding="utf-8")
    assert SECRET not in text and "abcdef0123456789abcdef" not in text
    suite = ET.fromstring(text).find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == ["00_ok", "01_fails", "02_noisy"]
    assert all(float(c.get("time", "-1")) > 0 for c in cases.values())
    assert cases["00_ok"].find("failure") is None
    failure = cases["01_fails"].find("failure")
    assert failure is not None
    # papermill's injected parameters cell comes first, so the raising cell is the third one run
    assert failure.get("message", "").startswith("PermissionError in cell 3: refused https://b.oss/k?")
    assert "x=1" in failure.get("message", "") and "LeakedA" not in failure.get("message", "")
    assert "PermissionError" in (failure.text or "") and "raise PermissionError" in (failure.text or "")
    noisy = cases["02_noisy"].find("failure")
    assert noisy is not None and noisy.get("message") == "wrote to stderr (cell 2)"
    assert "key " in (noisy.text or "")


@pytest.mark.slow
def test_junit_of_real_notebooks_on_the_local_target_leaves_no_object(tmp_path: Path) -> None:
    env = {**os.environ, "WORKBOOK_STATE_DIR": str(tmp_path / "state"), "PYTHONPATH": str(stack.PROJECT_ROOT)}
    junit = tmp_path / "junit.xml"
    try:
        r = subprocess.run([sys.executable, "-m", "helpers.run", "--junit", str(junit), "--out",
                            str(tmp_path / "out"), "00", "06", "09", "10"], env=env, capture_output=True,
                           text=True, timeout=300, cwd=stack.PROJECT_ROOT)
        # One stack for all, as `make run` does: 10's expired token must expire after 09 moved the clock
        # ahead and back (the app server once served credentials minted while it stood ahead).
        assert r.returncode == 0, r.stdout + r.stderr
        suite = ET.parse(junit).getroot().find("testsuite")
        assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("4", "0")
        info = stack.read_state(tmp_path / "state")
        assert info is not None
        creds = json.loads(Path(info.credentials_file).read_text(encoding="utf-8"))
        admin = oss2.Bucket(oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]),
                            info.oss_endpoint, info.bucket)
        assert [o.key for o in oss2.ObjectIterator(admin)] == []
        assert list(oss2.MultipartUploadIterator(admin)) == []
    finally:
        stack.down(tmp_path / "state")
