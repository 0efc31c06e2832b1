"""Load: many concurrent app users through the whole stack, every byte verified.

    .venv/bin/python benchmarks/load.py [--quick] [--users N] [--objects N] [--out build/bench/load.json]

Starts the real stack (`helpers.stack.up` on a fresh directory: the local cloud and the app server,
each its own process). The credentials file is written first with `--users` demo app users
(`load-000`, ...), so every simulated user is a distinct app user with its own folder. Each user runs
on its own thread with the project's real client (`helpers.client.MobileClient`): it logs in, then
for each of its objects (sizes log-uniform from 1 KiB to 8 MiB; the first is 1 KiB and the second
8 MiB) uploads through STS + oss2, a signed PUT URL, a PostObject form (every other one with an OSS
callback to the app server) or STS + the v2 SDK, in turn, and downloads it back through STS + oss2, a
signed GET URL or STS + the v2 SDK, in turn. The downloaded bytes are compared with what was sent,
byte for byte. All users start together (a barrier).

Baseline, measured in the same run: one user alone does the same kind of work first; the ratio is the
aggregate MB/s under load over that single user's MB/s. MB/s counts verified bytes up plus down.
Figures: `load_clients`, `load_objects` (verified round trips), `load_errors`, `load_mbps`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from benchlib import BENCH_DIR, MB, KiB, MiB, load_note, machine, table, write_json

from helpers import stack
from helpers.client.mobile import MobileClient
from helpers.localcloud.accounts import new_credentials

MIN_SIZE = KiB
MAX_SIZE = 8 * MiB
UPLOADS = ("sts", "signed", "form", "sts-v2")
DOWNLOADS = ("sts", "signed", "sts-v2")
HEADER = 64
_POOL = os.urandom(MAX_SIZE + 8 * MiB)


def expected_body(key: str, size: int) -> bytes:
    """The bytes of `key`: its name and size, then a slice of a random pool picked by the key."""
    head = f"{key}|{size}|".encode().ljust(HEADER, b"#")[: min(HEADER, size)]
    offset = zlib.crc32(key.encode()) % (len(_POOL) - MAX_SIZE)
    return head + _POOL[offset : offset + size - len(head)]


def sizes_for(user: int, count: int, seed: int) -> list[int]:
    rng = random.Random(seed * 1_000_003 + user)
    lo, hi = math.log(MIN_SIZE), math.log(MAX_SIZE)
    out = [int(math.exp(rng.uniform(lo, hi))) for _ in range(count)]
    out[:2] = [MIN_SIZE, MAX_SIZE][:count]
    return out


@dataclass
class Tally:
    """What one thread did; merged at the end (no shared counters under the GIL's noses)."""

    objects: int = 0
    errors: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def timed(self, op: str, call: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = call()
        self.times.setdefault(op, []).append(time.perf_counter() - t0)
        return out

    def fail(self, what: str, exc: BaseException | str) -> None:
        self.errors += 1
        if len(self.failures) < 5:
            detail = exc if isinstance(exc, str) else f"{type(exc).__name__}: {str(exc)[:200]}"
            self.failures.append(f"{what}: {detail}")

    def merge(self, other: Tally) -> None:
        self.objects += other.objects
        self.errors += other.errors
        self.bytes_up += other.bytes_up
        self.bytes_down += other.bytes_down
        for op, ts in other.times.items():
            self.times.setdefault(op, []).extend(ts)
        self.failures.extend(other.failures[: max(0, 20 - len(self.failures))])


def _upload(client: MobileClient, how: str, key: str, body: bytes, form_callback: bool) -> str:
    if how == "sts":
        return client.upload(key, body).key
    if how == "sts-v2":
        return client.upload(key, body, sdk="v2").key
    if how == "signed":
        return client.upload_signed(key, body, "application/octet-stream").key
    result = client.upload_form(key, body, "application/octet-stream", callback=form_callback)
    if form_callback and not (isinstance(result.callback_reply, dict) and result.callback_reply.get("ok")):
        raise RuntimeError(f"callback not accepted: {result.callback_reply!r}"[:200])
    return result.key


def _download(client: MobileClient, how: str, key: str) -> bytes:
    if how == "sts":
        return client.download(key).data
    if how == "sts-v2":
        return client.download(key, sdk="v2").data
    return client.download_signed(key).data


def run_user(
    info: stack.StackInfo,
    username: str,
    password: str,
    sizes: list[int],
    start: threading.Barrier | None,
    tally: Tally,
) -> None:
    """One app user: log in, then upload and download back each object, verifying every byte."""
    if start is not None:
        start.wait()
    try:
        client = tally.timed("login", lambda: MobileClient(info.appserver_url or "", username, password))
    except Exception as exc:  # noqa: BLE001 - a failed login fails every object of this user
        for i in range(len(sizes)):
            tally.fail(f"{username} login (object {i})", exc)
        return
    with client:
        for i, size in enumerate(sizes):
            round_trip(client, username, i, size, tally)


def round_trip(client: MobileClient, username: str, i: int, size: int, tally: Tally) -> None:
    """Object `i`: upload it one way, download it another, compare every byte; failures are counted."""
    up, down = UPLOADS[i % len(UPLOADS)], DOWNLOADS[i % len(DOWNLOADS)]
    key = f"load/{i:02d}-{up}-{size}.bin"
    body = expected_body(f"{username}/{key}", size)
    try:
        full = tally.timed(f"upload {up}", lambda: _upload(client, up, key, body, i % 8 == 2))
        if full != client.full_key(key):
            raise RuntimeError(f"stored as {full!r}, expected {client.full_key(key)!r}")
        tally.bytes_up += size
        got = tally.timed(f"download {down}", lambda: _download(client, down, key))
        if len(got) != size or got != body:
            raise RuntimeError(f"downloaded {len(got)} bytes that differ from the {size} sent")
        tally.bytes_down += size
        tally.objects += 1
    except Exception as exc:  # noqa: BLE001 - every failure is counted, the run goes on
        tally.fail(f"{username} {key} ({up}/{down})", exc)


def write_credentials(directory: Path, users: list[str]) -> dict[str, str]:
    """The stack's credentials file (mode 0600), written before the first start, with our app users."""
    doc = new_credentials(bucket=stack.DEFAULT_BUCKET)
    passwords = {u: os.urandom(12).hex() for u in users}
    doc["app_users"] = [{"username": u, "password": p} for u, p in passwords.items()]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "credentials.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
    return passwords


class PeakRss:
    """Peak RSS of some processes, sampled every 100 ms on a thread."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            for name, p in self.procs.items():
                with contextlib.suppress(psutil.Error):
                    self.peak[name] = max(self.peak[name], int(p.memory_info().rss))
            if self._stop.wait(0.1):
                return

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {name: round(v / MB, 1) for name, v in self.peak.items()}


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else 0.0


def run(users: int, objects: int, seed: int, log_dir: Path) -> dict[str, Any]:
    names = [f"load-{n:03d}" for n in range(users)]
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp_name:
        directory = Path(tmp_name)
        passwords = write_credentials(directory, [*names, "baseline"])
        info = stack.up(directory, timeout=60)
        try:
            pids = {"localcloud": info.localcloud_pid, "appserver": info.appserver_pid or 0}
            rss = PeakRss(pids)
            cpu0 = {n: sum(psutil.Process(p).cpu_times()[:2]) for n, p in pids.items()}
            base = Tally()
            t0 = time.perf_counter()
            run_user(info, "baseline", passwords["baseline"], sizes_for(-1, objects, seed), None, base)
            base_s = time.perf_counter() - t0
            tallies = [Tally() for _ in names]
            barrier = threading.Barrier(users + 1)
            threads = [
                threading.Thread(
                    target=run_user,
                    name=f"user-{n}",
                    args=(info, n, passwords[n], sizes_for(i, objects, seed), barrier, tallies[i]),
                    daemon=True,
                )
                for i, n in enumerate(names)
            ]
            for t in threads:
                t.start()
            barrier.wait()
            t1 = time.perf_counter()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t1
            cpu = {n: round(sum(psutil.Process(p).cpu_times()[:2]) - cpu0[n], 1) for n, p in pids.items()}
            peak = rss.stop()
            alive = {n: psutil.pid_exists(p) for n, p in pids.items()}
        finally:
            stack.down(directory)
            # Keep the servers' logs (their tails) next to the figures: failures are explained there.
            for name in ("localcloud.log", "appserver.log"):
                with contextlib.suppress(OSError):
                    log_dir.mkdir(parents=True, exist_ok=True)
                    (log_dir / f"load-{name}").write_bytes((directory / name).read_bytes()[-500_000:])
    total = Tally()
    for t in tallies:
        total.merge(t)
    load_mbps = (total.bytes_up + total.bytes_down) / wall / MB
    base_mbps = (base.bytes_up + base.bytes_down) / base_s / MB
    return {
        "users": users,
        "objects_per_user": objects,
        "seed": seed,
        "wall_s": round(wall, 2),
        "total": total,
        "baseline": base,
        "baseline_s": round(base_s, 2),
        "load_mbps": load_mbps,
        "baseline_mbps": base_mbps,
        "server_cpu_s": cpu,
        "peak_rss_mb": peak,
        "servers_alive": alive,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/load.py", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="10 users x 3 objects (seconds)")
    p.add_argument("--users", type=int, default=None)
    p.add_argument("--objects", type=int, default=None, help="objects per user")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=BENCH_DIR / "load.json")
    args = p.parse_args(argv)
    users = args.users or (10 if args.quick else 200)
    objects = args.objects or (3 if args.quick else 20)
    r = run(users, objects, args.seed, args.out.parent)
    total: Tally = r["total"]
    base: Tally = r["baseline"]
    rows = []
    for op in sorted(total.times):
        ts = total.times[op]
        rows.append(
            [op, len(ts), round(_pct(ts, 0.5), 1), round(_pct(ts, 0.99), 1), round(max(ts) * 1000, 1)]
        )
    print(table(["operation", "count", "p50 ms", "p99 ms", "max ms"], rows))
    print()
    expected = users * objects
    summary = {
        "load_clients": users,
        "load_objects": total.objects,
        "load_errors": max(total.errors, expected - total.objects),
        "load_mbps": round(r["load_mbps"], 1),
    }
    ratio = r["load_mbps"] / r["baseline_mbps"] if r["baseline_mbps"] else 0.0
    print(
        table(
            ["figure", "value"],
            [
                ["users (threads, started together)", users],
                ["objects verified (of)", f"{total.objects} ({expected})"],
                ["errors", summary["load_errors"]],
                ["verified MB up + down", round((total.bytes_up + total.bytes_down) / MB, 1)],
                ["wall s", r["wall_s"]],
                ["aggregate MB/s", summary["load_mbps"]],
                ["baseline: 1 user alone MB/s", round(r["baseline_mbps"], 1)],
                ["ratio load / baseline", round(ratio, 2)],
                ["baseline errors", base.errors],
                [
                    "server CPU s (localcloud, appserver)",
                    f"{r['server_cpu_s']['localcloud']}, {r['server_cpu_s']['appserver']}",
                ],
                [
                    "peak RSS MB (localcloud, appserver)",
                    f"{r['peak_rss_mb']['localcloud']}, {r['peak_rss_mb']['appserver']}",
                ],
            ],
        )
    )
    for f in (total.failures + base.failures)[:10]:
        print("  failure:", f)
    print(f"\n{load_note()}")
    doc = {
        "benchmark": "load",
        "quick": args.quick,
        "mb": MB,
        "machine": machine(),
        "summary": summary,
        "baseline": {
            "mbps": round(r["baseline_mbps"], 1),
            "errors": base.errors,
            "ratio_load_over_baseline": round(ratio, 3),
        },
        "wall_s": r["wall_s"],
        "objects_per_user": objects,
        "seed": args.seed,
        "bytes_up": total.bytes_up,
        "bytes_down": total.bytes_down,
        "latency_ms": {
            op: {"count": len(ts), "p50": round(_pct(ts, 0.5), 1), "p99": round(_pct(ts, 0.99), 1)}
            for op, ts in total.times.items()
        },
        "server_cpu_s": r["server_cpu_s"],
        "peak_rss_mb": r["peak_rss_mb"],
        "servers_alive_at_end": r["servers_alive"],
        "failures": total.failures + base.failures,
    }
    write_json(args.out, doc)
    print(f"figures written to {args.out}")
    return 0 if summary["load_errors"] == 0 and base.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
