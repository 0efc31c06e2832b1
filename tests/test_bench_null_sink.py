"""The benchmark's null sink (benchmarks/null_sink.py) answers oss2 as the benchmark needs: PUT is
swallowed, GET returns as many bytes as the last PUT to that path, and oss2 skips its CRC check."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import oss2
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[str]:
    ready = tmp_path / "sink.ready"
    proc = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "null_sink.py"), "--ready-file",
                             str(ready)], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "sink did not start"
            time.sleep(0.05)
        yield json.loads(ready.read_text())["endpoint"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_null_sink_get_after_put_streams_put_size_and_oss2_crc_passes(sink: str) -> None:
    session = oss2.Session()
    session.session.trust_env = False
    bucket = oss2.Bucket(oss2.Auth("ak", "sk"), sink, "bench", session=session)
    size = 3 * 1024 * 1024 + 7
    result = bucket.put_object("a/b", b"x" * size)
    assert result.status == 200 and result.crc is None
    got = bucket.get_object("a/b")
    data = got.read()
    assert len(data) == size and data.count(0) == size
    oss2.utils.check_crc("get", got.client_crc, got.server_crc, got.request_id)
    assert len(bucket.get_object("never-put").read()) == 0
