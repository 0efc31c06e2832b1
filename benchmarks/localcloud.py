"""Local-cloud throughput and memory, each speed figure against a baseline measured in the same run.

    .venv/bin/python benchmarks/localcloud.py [--quick] [--out build/bench/localcloud.json]

Starts two processes on loopback: the local cloud (`python -m helpers.localcloud serve`, fresh temp data
dir) and the null sink (`benchmarks/null_sink.py`: same uvicorn stack, no auth, no hashing, no disk).
The same oss2 client code (V1 `oss2.Auth` with the admin key, default `enable_crc=True`) PUTs a body
read from a pre-generated random file and GETs it back with a `read(1 MiB)` loop, at 1 MiB, 64 MiB and
512 MiB, alternating targets within each repetition. A figure is the best repetition; ratio is
local cloud / sink. Each server's CPU time per GB moved (user + system, psutil) is printed too: it
hardly moves when other work shares the machine, while MB/s does. The local cloud's RSS is sampled
every 20 ms (psutil) and its VmHWM read from /proc: idle, once 1 GiB in total has gone through it,
and at the end. MB is 10^6 bytes; client reads are 1 MiB.
Prints a table and writes the figures as JSON (default `build/bench/localcloud.json`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import oss2
import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
GiB = 1024 * MiB
MB = 1_000_000
CLIENT_READ = MiB
BUCKET = "bench"


@dataclass(frozen=True)
class Case:
    """One object size: `batch` transfers per timed repetition, best of `reps`."""

    size: int
    batch: int
    reps: int

    @property
    def label(self) -> str:
        return f"{self.size // MiB} MiB"


FULL = (Case(MiB, 32, 5), Case(64 * MiB, 1, 5), Case(512 * MiB, 1, 2))
QUICK = (Case(MiB, 8, 2), Case(16 * MiB, 1, 2), Case(64 * MiB, 1, 1))


class RssMonitor:
    """Samples one process's RSS every `interval` seconds on a thread; `peak` is the highest sample."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self._proc = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.peak = self.current()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)
        self._thread.start()

    def current(self) -> int:
        return int(self._proc.memory_info().rss)

    def vmhwm(self) -> int | None:
        """The kernel's own high-water mark of RSS (bytes), which catches spikes between samples."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.current())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Target:
    name: str
    endpoint: str
    proc: subprocess.Popen[bytes]
    bucket: oss2.Bucket
    rss: RssMonitor
    bytes_moved: int = 0
    marks: dict[str, Any] = field(default_factory=dict)
    client_cpu: dict[tuple[int, str], list[float]] = field(default_factory=dict)


def _wait_ready(path: Path, proc: subprocess.Popen[bytes], log: Path,
                timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start; see {log}:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _spawn(argv: list[str], ready: Path, log: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=PROJECT_ROOT)
    try:
        return proc, _wait_ready(ready, proc, log)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _bucket(auth: oss2.Auth, endpoint: str) -> oss2.Bucket:
    session = oss2.Session()
    session.session.trust_env = False  # loopback only: never through an environment proxy
    return oss2.Bucket(auth, endpoint, BUCKET, session=session, connect_timeout=120)


def _make_body(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        for _ in range(size // (8 * MiB)):
            f.write(os.urandom(8 * MiB))
        f.write(os.urandom(size % (8 * MiB)))


def put(bucket: oss2.Bucket, key: str, body: Path, size: int) -> None:
    """PutObject from the body file (streamed, never whole in memory); oss2 checks the CRC when sent."""
    with open(body, "rb") as f:
        bucket.put_object(key, oss2.SizedFileAdapter(f, size))


def get(bucket: oss2.Bucket, key: str, size: int) -> None:
    """GetObject read in 1 MiB pieces and discarded; CRC checked as get_object_to_file does."""
    result = bucket.get_object(key)
    n = 0
    while chunk := result.read(CLIENT_READ):
        n += len(chunk)
    if n != size:
        raise RuntimeError(f"GET {key}: {n} bytes, expected {size}")
    oss2.utils.check_crc("get", result.client_crc, result.server_crc, result.request_id)


_SELF = psutil.Process()


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def _key(case: Case, rep: int, i: int) -> str:
    return f"obj-{case.size // MiB}m-{rep}-{i}"


def _timed(target: Target, op: str, case: Case, body: Path, rep: int) -> tuple[float, float]:
    """(MB/s, server CPU seconds per GB) of `case.batch` transfers of `case.size` bytes in a row.

    Each repetition PUTs new keys (a fresh upload, the common case) and deletes the previous
    repetition's keys untimed, so disk use stays flat and no timed PUT pays for freeing an old version.
    """
    keys = [_key(case, rep, i) for i in range(case.batch)]
    if op == "PUT" and rep > 0 and target.name == "localcloud":   # the sink stores nothing
        target.bucket.batch_delete_objects([_key(case, rep - 1, i) for i in range(case.batch)])
    proc = psutil.Process(target.proc.pid)
    cpu0, client0 = _cpu(proc), _cpu(_SELF)
    start = time.perf_counter()
    for key in keys:
        if op == "PUT":
            put(target.bucket, key, body, case.size)
        else:
            get(target.bucket, key, case.size)
    elapsed = time.perf_counter() - start
    cpu = _cpu(proc) - cpu0
    moved = case.batch * case.size
    target.client_cpu.setdefault((case.size, op), []).append((_cpu(_SELF) - client0) / (moved / 1e9))
    target.bytes_moved += moved
    if "1gib" not in target.marks and target.bytes_moved >= GiB:
        target.marks["1gib"] = {"bytes_moved": target.bytes_moved, "rss": target.rss.current(),
                                "peak_rss": target.rss.peak, "vmhwm": target.rss.vmhwm()}
    return moved / elapsed / MB, cpu / (moved / 1e9)


def run_cases(targets: list[Target], cases: tuple[Case, ...], body: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for case in cases:
        speed: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for rep in range(case.reps):
            for t in targets:   # alternate targets so drift on the machine hits both alike
                for op in ("PUT", "GET"):
                    mbps, cpu_s_per_gb = _timed(t, op, case, body, rep)
                    speed.setdefault((t.name, op), []).append(mbps)
                    cpu.setdefault((t.name, op), []).append(cpu_s_per_gb)
        for op in ("PUT", "GET"):
            lc, sink = speed[("localcloud", op)], speed[("sink", op)]
            rows.append({"size": case.size, "label": case.label, "op": op, "batch": case.batch,
                         "reps": case.reps, "localcloud_mbps": max(lc), "sink_mbps": max(sink),
                         "ratio": max(lc) / max(sink), "localcloud_samples": lc, "sink_samples": sink,
                         "localcloud_cpu_s_per_gb": min(cpu[("localcloud", op)]),
                         "sink_cpu_s_per_gb": min(cpu[("sink", op)]),
                         "client_cpu_s_per_gb": {t.name: min(t.client_cpu[(case.size, op)])
                                                 for t in targets}})
    return rows


@contextlib.contextmanager
def servers(tmp: Path) -> Iterator[list[Target]]:
    """Start the local cloud and the sink as their own processes; stop them on exit."""
    lc_argv = [sys.executable, "-m", "helpers.localcloud", "serve", "--data", str(tmp / "data"),
               "--ready-file", str(tmp / "lc.ready")]
    lc_proc, lc_info = _spawn(lc_argv, tmp / "lc.ready", tmp / "lc.log")
    try:
        sink_proc, sink_info = _spawn([sys.executable, str(PROJECT_ROOT / "benchmarks" / "null_sink.py"),
                                       "--ready-file", str(tmp / "sink.ready")], tmp / "sink.ready",
                                      tmp / "sink.log")
    except BaseException:
        _stop(lc_proc)
        raise
    monitors: list[RssMonitor] = []
    try:
        creds = json.loads(Path(lc_info["credentials_file"]).read_text(encoding="utf-8"))
        auth = oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
        lc_bucket = _bucket(auth, lc_info["oss_endpoint"])
        lc_bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE)
        monitors = [RssMonitor(lc_proc.pid), RssMonitor(sink_proc.pid)]
        yield [Target("localcloud", lc_info["oss_endpoint"], lc_proc, lc_bucket, monitors[0]),
               Target("sink", sink_info["endpoint"], sink_proc, _bucket(auth, sink_info["endpoint"]),
                      monitors[1])]
    finally:
        for m in monitors:
            m.stop()
        _stop(sink_proc)
        _stop(lc_proc)


def _mb(n: int | None) -> float | None:
    return None if n is None else round(n / MB, 1)


def print_table(rows: list[dict[str, Any]], memory: dict[str, Any]) -> None:
    print(f"{'size':>8} | {'op':<3} | {'localcloud MB/s':>15} | {'sink MB/s':>9} | {'ratio':>5} | "
          f"{'server CPU s/GB: localcloud':>27} | {'sink':>5}")
    print("-" * 92)
    for r in rows:
        print(f"{r['label']:>8} | {r['op']:<3} | {r['localcloud_mbps']:>15.1f} | {r['sink_mbps']:>9.1f} | "
              f"{r['ratio']:>5.2f} | {r['localcloud_cpu_s_per_gb']:>27.2f} | {r['sink_cpu_s_per_gb']:>5.2f}")
    print()
    for name in ("localcloud", "sink"):
        m = memory[name]
        at = m.get("after_1gib") or {}
        print(f"{name} RSS (MB): idle {m['idle_rss_mb']}, after 1 GiB through: {at.get('rss_mb')} "
              f"(peak so far {at.get('peak_rss_mb')}), peak over run {m['peak_rss_mb']} "
              f"(VmHWM {m['vmhwm_mb']}); {m['bytes_moved'] / GiB:.2f} GiB moved")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/localcloud.py", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (smoke run, ~20 s)")
    p.add_argument("--cases", default=None, metavar="MIB:BATCH:REPS,...",
                   help="custom sizes instead of the default set, e.g. 64:1:5 (for A/B runs)")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "bench" / "localcloud.json")
    args = p.parse_args(argv)
    cases = QUICK if args.quick else FULL
    if args.cases:
        cases = tuple(Case(int(m) * MiB, int(b), int(r))
                      for m, b, r in (spec.split(":") for spec in args.cases.split(",")))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lc-bench-") as tmp_name:
        tmp = Path(tmp_name)
        body = tmp / "body.bin"
        _make_body(body, max(c.size for c in cases))
        with servers(tmp) as targets:
            idle = {t.name: t.rss.current() for t in targets}
            rows = run_cases(targets, cases, body)
            memory: dict[str, Any] = {}
            for t in targets:
                at = t.marks.get("1gib")
                memory[t.name] = {
                    "idle_rss_mb": _mb(idle[t.name]), "peak_rss_mb": _mb(t.rss.peak),
                    "vmhwm_mb": _mb(t.rss.vmhwm()), "bytes_moved": t.bytes_moved,
                    "after_1gib": None if at is None else {
                        "bytes_moved": at["bytes_moved"], "rss_mb": _mb(at["rss"]),
                        "peak_rss_mb": _mb(at["peak_rss"]), "vmhwm_mb": _mb(at["vmhwm"])}}
    print_table(rows, memory)
    summary = {
        "localcloud_put_ratio": min(r["ratio"] for r in rows if r["op"] == "PUT"),
        "localcloud_get_ratio": min(r["ratio"] for r in rows if r["op"] == "GET"),
        "localcloud_peak_rss_mb": memory["localcloud"]["peak_rss_mb"],
        "localcloud_vmhwm_mb": memory["localcloud"]["vmhwm_mb"],
    }
    print(f"\nput ratio (worst size) {summary['localcloud_put_ratio']:.2f}, "
          f"get ratio (worst size) {summary['localcloud_get_ratio']:.2f}; "
          f"run took {time.monotonic() - started:.0f} s; load average at end "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    doc = {"benchmark": "localcloud", "quick": args.quick, "mb": MB,
           "machine": {"cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg(),
                       "python": platform.python_version(), "platform": platform.platform(),
                       "oss2": oss2.__version__},
           "summary": summary, "results": rows, "memory": memory}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
