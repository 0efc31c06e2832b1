"""Crash safety and memory bounds of ObjectStore, with real processes.

A child process writes objects (plain puts, overwrites and multipart uploads) and prints each key
after the store acknowledged it; the parent SIGKILLs it at a random moment, re-opens the store and
checks that every acknowledged write is intact and that nothing partial is listed or readable.
A second child writes and reads a 256 MiB object and reports its peak RSS growth.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers.localcloud.store import ObjectStore, crc64

REPO = Path(__file__).resolve().parents[3]
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() \
    else sys.executable
BUCKET = "crash"



def content(key: str, version: int, size: int) -> bytes:
    """Deterministic body of `key` at `version` (the child and the parent both use it)."""
    block = hashlib.sha256(f"{key}#{version}".encode()).digest() * 2048   # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def size_for(n: int, version: int) -> int:
    return (n * 7919 + version * 104729) % (3 << 20) + (n % 3)


# The child runs the very same two functions (their source), so no shared module is needed.
CONTENT_SRC = "import hashlib\n" + inspect.getsource(content) + inspect.getsource(size_for)
CHILD = CONTENT_SRC + '''
import sys
from pathlib import Path
from helpers.localcloud.store import ObjectStore, ObjectTemplate

root, rnd = Path(sys.argv[1]), int(sys.argv[2])
store = ObjectStore(root)
store.create_bucket("crash", owner_id="o", region="cn-hangzhou")
print("ready", flush=True)
i = 0
while True:
    i += 1
    # Every third write overwrites an earlier key with a newer version.
    n = i // 3 if i % 3 == 0 else i
    key = f"r{rnd}/obj {n:05d} 中文"
    size = size_for(n, i)
    data = content(key, i, size)
    if i % 7 == 0 and size >= 204800:
        up = store.initiate_upload("crash", key, template=ObjectTemplate(user_meta={"v": str(i)}))
        parts, half = [], size // 2
        for number, piece in enumerate((data[:half], data[half:]), start=1):
            p = store.begin_write("crash")
            p.write(piece)
            parts.append((number, store.commit_part(p, bucket="crash", upload_id=up.upload_id,
                                                    part_number=number).etag))
        store.complete_upload("crash", up.upload_id, parts)
    else:
        p = store.begin_write("crash")
        for off in range(0, size, 65536):
            p.write(data[off:off + 65536])
        store.commit_object(p, key=key, user_meta={"v": str(i)})
    print(f"{i}\\t{key}", flush=True)
'''


def _run_and_kill(root: Path, rnd: int, delay: float) -> tuple[list[tuple[int, str]], int | None]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([PYTHON, "-c", CHILD, str(root), str(rnd)], stdout=subprocess.PIPE,
                            cwd=REPO, env=env, text=True, encoding="utf-8")
    assert proc.stdout is not None
    acked: list[tuple[int, str]] = []
    ready = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line == "ready\n":
                ready.set()
            elif line.endswith("\n"):
                version, key = line.rstrip("\n").split("\t")
                acked.append((int(version), key))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        assert ready.wait(30), "child did not start"
        time.sleep(delay)
        still_running = proc.poll()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        t.join(timeout=30)
        proc.stdout.close()
    return acked, still_running


def _verify(store: ObjectStore, acked: list[tuple[int, str]]) -> None:
    latest: dict[str, int] = {}
    for version, key in acked:
        latest[key] = max(version, latest.get(key, 0))
    for key, version in latest.items():
        meta = store.head(BUCKET, key)
        assert int(meta.user_meta["v"]) >= version, key
    # Everything listed, acknowledged or not, must be whole and match its metadata.
    marker = ""
    while True:
        page = store.list_objects(BUCKET, marker=marker, max_keys=1000)
        for meta in page.entries:
            version = int(meta.user_meta["v"])
            n = int(meta.key.split(" ")[1])
            expected = content(meta.key, version, size_for(n, version))
            _, reader = store.open_read(BUCKET, meta.key)
            with reader:
                data = b"".join(reader.read_range(0, reader.size - 1)) if reader.size else b""
            assert data == expected, meta.key
            assert meta.crc64 == crc64(data)
            if meta.object_type == "Normal":
                assert meta.etag == f'"{hashlib.md5(data).hexdigest().upper()}"'
        if not page.is_truncated:
            break
        marker = page.next_marker
    for upload in store.list_uploads(BUCKET).uploads:  # unfinished uploads keep whole parts
        for part in store.list_parts(BUCKET, upload.upload_id):
            assert part.size > 0
    assert os.listdir(store.tmp_dir) == []


@pytest.mark.slow
def test_store_kill9_mid_stream_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    root = tmp_path / "data"
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    all_acked: list[tuple[int, str]] = []
    killed_running = 0
    for rnd in range(6):
        acked, exited = _run_and_kill(root, rnd, rng.uniform(0.3, 1.5))
        killed_running += exited is None
        all_acked += acked
        with ObjectStore(root) as store:
            _verify(store, all_acked)
    assert killed_running == 6, f"seed {seed}: the child must still be writing when killed"
    assert len(all_acked) >= 6, f"seed {seed}: too few acknowledged writes to mean anything"


MEMORY_CHILD = '''
import os, resource, sys
from pathlib import Path
from helpers.localcloud.store import ObjectStore, crc64

store = ObjectStore(Path(sys.argv[1]))
store.create_bucket("mem", owner_id="o", region="cn-hangzhou")
chunk = os.urandom(1 << 20)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
p = store.begin_write("mem")
for _ in range(256):
    p.write(chunk)
meta = store.commit_object(p, key="big")
_, reader = store.open_read("mem", "big")
crc = 0
for piece in reader.read_range(0, meta.size - 1, 1 << 20):
    crc = crc64(piece, crc)
reader.close()
assert crc == meta.crc64 and meta.size == 256 << 20
store.copy("mem", "big", "mem", "big-copy")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
'''


@pytest.mark.slow
def test_store_256mib_write_and_read_keeps_rss_growth_under_50mib(tmp_path: Path) -> None:
    out = subprocess.run([PYTHON, "-c", MEMORY_CHILD, str(tmp_path / "data")], capture_output=True,
                         text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=240)
    assert out.returncode == 0, out.stderr
    growth_mib = int(out.stdout.strip())
    assert growth_mib < 50, f"peak RSS grew by {growth_mib} MiB"
