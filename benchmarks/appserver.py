"""App server under load: cached `/api/sts` for 50 logged-in users against a no-op endpoint, same run.

    .venv/bin/python benchmarks/appserver.py [--quick] [--users 50] [--seconds S] [--reps N]
                                             [--client-procs N] [--rate R]
                                             [--out build/bench/appserver.json]

Starts the real stack (`helpers.stack.up` on a fresh directory: the local cloud and the app server,
each its own process) with `--users` benchmark app users (`bench-000`, ...) written into the
credentials file's `app_users` before the first start (auth is not weakened: each user logs in with
its password and gets its own bearer token). Every user warms its two (user, scope) cache entries
first, all users at once, twice (so concurrent misses of one key are exercised).

The load generator runs in its own process(es) (this script with `--worker`): an asyncio client on
raw keep-alive sockets with httptools' response parser, one connection per user, one request in
flight per connection. Each repetition runs, for the same time each:
  1. the no-op endpoint `GET /api/health` (no auth), closed loop (each user sends its next request
     when the previous answer arrives): the server's ceiling on this machine now;
  2. the cached `GET /api/sts?scope=upload|download` (alternating per request), closed loop;
  3. the same STS requests paced (open loop) at `--rate` req/s in total (default 1000: the target),
     each user on a fixed schedule, latency counted from the scheduled send time (so a slow answer
     also charges the requests it holds up: no coordinated omission).
In a closed loop with 50 in flight, latency is 50 / throughput by Little's law whatever the server
does, so the p99 figure is taken at the target rate (3), while the rate figure is the ceiling (2).
The figures come from the repetition with the best closed-loop STS rate. Latency is per request,
after a short warm-up that is not counted.

Figures: `sts_cached_rps` (2), `sts_cached_p99_ms` (3, ms), `noop_rps` (1, same server, same run) and
`sts_calls_per_user_scope` (AssumeRole calls counted by the local cloud's STS port over the whole run,
warm-up included, divided by the distinct (user, scope) pairs; the run is far shorter than the
credentials' lifetime, so 1.0 is ideal). CPU seconds of the app server and of the load generator are
printed too (psutil / process_time): on a 2-core machine they share the CPUs, which the ratio to the
no-op figure accounts for. Prints tables; writes JSON (default `build/bench/appserver.json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:      # run as a script or imported by tests
    sys.path.insert(0, str(BENCH))

from benchlib import BENCH_DIR, PROJECT_ROOT, load_note, machine, table, write_json  # noqa: E402

SCOPES = ("upload", "download")
WARMUP_S = 0.5


# ------------------------------------------------------------------------------------ load generator

class _Conn(asyncio.Protocol):
    """One keep-alive connection: send a request, parse the answer, record its latency, send the next."""

    def __init__(self, requests: Sequence[bytes], t_start: float, t_end: float,
                 done: asyncio.Future[None], interval: float = 0.0, phase: float = 0.0) -> None:
        import httptools

        # interval > 0: paced (open loop), one request every `interval` s on a fixed schedule, and a
        # latency counts from the scheduled time, so a slow answer also charges the requests it delays.
        self.interval = interval
        self._sched = time.perf_counter() + phase
        self._loop = asyncio.get_running_loop()
        self.requests = requests
        self.t_start, self.t_end = t_start, t_end
        self.done = done
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}
        self._parser = httptools.HttpResponseParser(self)
        self._n = 0
        self._sent = 0.0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)    # uvloop's is not a subclass
        self._next()

    def _next(self) -> None:
        if not self.interval:
            self._send()
            return
        delay = self._sched - time.perf_counter()
        if delay > 0:
            self._loop.call_later(delay, self._send)
        else:
            self._send()

    def _send(self) -> None:
        assert self._transport is not None
        now = time.perf_counter()
        if self.interval:
            self._sent = self._sched
            self._sched += self.interval
        else:
            self._sent = now
        self._transport.write(self.requests[self._n % len(self.requests)])
        self._n += 1

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def on_message_complete(self) -> None:
        now = time.perf_counter()
        status = self._parser.get_status_code()
        if now >= self.t_start:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.latencies.append(now - self._sent)
            else:
                self.errors += 1
        if now < self.t_end:
            self._next()
        elif not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.errors += 1
            self.done.set_result(None)


async def _drive(host: str, port: int, per_conn: list[list[bytes]], seconds: float,
                 rate: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    interval = len(per_conn) / rate if rate else 0.0
    conns: list[_Conn] = []
    t0 = time.perf_counter()
    t_start, t_end = t0 + WARMUP_S, t0 + WARMUP_S + seconds
    for i, reqs in enumerate(per_conn):
        done: asyncio.Future[None] = loop.create_future()
        phase = interval * i / len(per_conn)     # spread the paced users evenly over one interval
        _, proto = await loop.create_connection(
            lambda r=reqs, d=done, ph=phase: _Conn(r, t_start, t_end, d, interval, ph), host, port)
        conns.append(proto)
    cpu0 = time.process_time()
    # A connection that never answers must not hang the benchmark: it counts as errors instead.
    _, pending = await asyncio.wait([c.done for c in conns], timeout=WARMUP_S + seconds + 30)
    for c in conns:
        if c.done in pending:
            c.errors += 1
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - t0
    statuses: dict[str, int] = {}
    for c in conns:
        for k, v in c.statuses.items():
            statuses[str(k)] = statuses.get(str(k), 0) + v
        if c._transport is not None:
            c._transport.close()
    return {"latencies": [x for c in conns for x in c.latencies], "errors": sum(c.errors for c in conns),
            "statuses": statuses, "client_cpu_s": cpu, "client_wall_s": wall}


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One load-generator process: `spec` = {host, port, seconds, rate, connections: [[request, ...]]};
    `rate` 0 is a closed loop (as fast as answers come), else this process's total requests per second."""
    per_conn = [[r.encode("latin-1") for r in reqs] for reqs in spec["connections"]]
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:     # plain asyncio still works, only with more client CPU per request
        runner = asyncio.run
    return runner(_drive(spec["host"], spec["port"], per_conn, float(spec["seconds"]), float(spec["rate"])))


def _request(host: str, path: str, token: str | None) -> str:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Accept: application/json\r\n\r\n"


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] * 1000


def load(url: str, conns: list[list[str]], seconds: float, procs: int, server_pid: int,
         rate: float = 0.0) -> dict[str, Any]:
    """Run the load generator in `procs` processes over `conns` (request texts per connection):
    a closed loop, or paced at `rate` requests per second in total."""
    import psutil

    host_port = url.split("://", 1)[1]
    host, port = host_port.rsplit(":", 1)
    server = psutil.Process(server_pid)
    chunks = [conns[i::procs] for i in range(procs)]
    with tempfile.TemporaryDirectory(prefix="appserver-load-") as tmp:
        # Results go through files: a large write to a pipe from an event-loop process is not reliable.
        outs = [Path(tmp) / f"worker-{i}.json" for i in range(procs)]
        children = [subprocess.Popen([sys.executable, __file__, "--worker", str(out)], stdin=subprocess.PIPE,
                                     cwd=PROJECT_ROOT) for out in outs]
        cpu0 = sum(server.cpu_times()[:2])
        for p, chunk in zip(children, chunks, strict=True):    # all start before any is waited for
            assert p.stdin is not None
            p.stdin.write(json.dumps({"host": host, "port": int(port), "seconds": seconds,
                                      "rate": rate * len(chunk) / len(conns), "connections": chunk}).encode())
            p.stdin.close()
        for p in children:
            p.wait(timeout=seconds + 90)
        server_cpu = sum(server.cpu_times()[:2]) - cpu0
        if any(p.returncode for p in children):
            raise RuntimeError(f"a load-generator process failed: {[p.returncode for p in children]}")
        results = [json.loads(out.read_text(encoding="utf-8")) for out in outs]
    lat = sorted(x for r in results for x in r["latencies"])
    statuses: dict[str, int] = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    wall = max(r["client_wall_s"] for r in results)
    return {"requests": len(lat), "rps": len(lat) / seconds, "p50_ms": _pct(lat, 0.5),
            "p99_ms": _pct(lat, 0.99), "max_ms": lat[-1] * 1000 if lat else 0.0,
            "errors": sum(r["errors"] for r in results), "statuses": statuses,
            "client_cpu_s": sum(r["client_cpu_s"] for r in results), "server_cpu_s": server_cpu,
            "wall_s": wall}


# ------------------------------------------------------------------------------------------- stack

def write_credentials(directory: Path, users: list[str]) -> dict[str, str]:
    """The stack's credentials file (mode 0600) with our benchmark app users, before the first start."""
    from helpers import stack
    from helpers.localcloud.accounts import new_credentials

    doc = new_credentials(bucket=stack.DEFAULT_BUCKET)
    passwords = {u: os.urandom(12).hex() for u in users}
    doc["app_users"] = [{"username": u, "password": p} for u, p in passwords.items()]
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / "credentials.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
    return passwords


def assume_role_calls(sts_endpoint: str) -> int:
    import httpx

    r = httpx.get(sts_endpoint + "/_localcloud/stats", timeout=10, trust_env=False)
    r.raise_for_status()
    return int(r.json()["assume_role_calls"])


def login_and_warm(url: str, passwords: dict[str, str]) -> tuple[dict[str, str], int]:
    """Bearer tokens of every user; then every (user, scope) fetched twice, all users at once."""
    import httpx

    with httpx.Client(base_url=url, trust_env=False, timeout=60,
                      limits=httpx.Limits(max_connections=len(passwords) * 2)) as http:
        def login(user: str) -> tuple[str, str]:
            r = http.post("/api/login", json={"username": user, "password": passwords[user]})
            r.raise_for_status()
            return user, str(r.json()["access_token"])

        def sts(job: tuple[str, str]) -> str:
            token, scope = job
            r = http.get("/api/sts", params={"scope": scope}, headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            return str(r.json()["AccessKeyId"])

        with ThreadPoolExecutor(max_workers=len(passwords)) as pool:
            tokens = dict(pool.map(login, passwords))
            jobs = [(tokens[u], s) for u in passwords for s in SCOPES] * 2
            ids = list(pool.map(sts, jobs))
    half = len(ids) // 2
    mismatched = sum(a != b for a, b in zip(ids[:half], ids[half:], strict=True))
    return tokens, mismatched


def run(users: int, seconds: float, reps: int, procs: int, rate: float) -> dict[str, Any]:
    from helpers import stack

    names = [f"bench-{n:03d}" for n in range(users)]
    with tempfile.TemporaryDirectory(prefix="appserver-bench-") as tmp_name:
        directory = Path(tmp_name)
        passwords = write_credentials(directory, names)
        info = stack.up(directory, timeout=60)
        try:
            url = info.appserver_url or ""
            host = url.split("://", 1)[1]
            calls0 = assume_role_calls(info.sts_endpoint)
            t_run = time.monotonic()
            tokens, mismatched = login_and_warm(url, passwords)
            noop_conns = [[_request(host, "/api/health", None)] for _ in names]
            sts_conns = [[_request(host, f"/api/sts?scope={s}", tokens[n]) for s in SCOPES] for n in names]
            runs = []
            for _ in range(reps):
                pid = info.appserver_pid or 0
                noop = load(url, noop_conns, seconds, procs, pid)
                sts = load(url, sts_conns, seconds, procs, pid)
                paced = load(url, sts_conns, seconds, procs, pid, rate=rate)
                runs.append({"noop": noop, "sts": sts, "sts_paced": paced})
            calls = assume_role_calls(info.sts_endpoint) - calls0
            run_s = time.monotonic() - t_run
        finally:
            stack.down(directory)
    best = max(runs, key=lambda r: r["sts"]["rps"])
    return {"users": users, "seconds": seconds, "reps": reps, "client_procs": procs, "rate": rate,
            "runs": runs, "best": best, "assume_role_calls": calls,
            "distinct_user_scope": users * len(SCOPES), "warm_mismatched": mismatched, "run_s": run_s}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/appserver.py", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="1 repetition of 2 s per endpoint")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--seconds", type=float, default=None, help="measured seconds per endpoint and repetition")
    p.add_argument("--reps", type=int, default=None)
    p.add_argument("--client-procs", type=int, default=1, help="load-generator processes")
    p.add_argument("--rate", type=float, default=1000.0, help="offered req/s of the paced STS run")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "appserver.json")
    p.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        args.worker.write_text(json.dumps(worker(json.loads(sys.stdin.read()))), encoding="utf-8")
        return 0
    # SIGTERM unwinds like Ctrl-C, so `stack.down` stops the stack's processes (their own sessions).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    reps = args.reps or (1 if args.quick else 3)
    load_before = machine()["loadavg"]
    r = run(args.users, seconds, reps, args.client_procs, args.rate)
    rows = []
    for i, rr in enumerate(r["runs"]):
        for name, m in (("noop GET /api/health", rr["noop"]), ("sts  GET /api/sts (cached)", rr["sts"]),
                        (f"sts  paced at {args.rate:g}/s", rr["sts_paced"])):
            rows.append([f"rep {i + 1} {name}", m["requests"], round(m["rps"]), round(m["p50_ms"], 2),
                         round(m["p99_ms"], 2), round(m["max_ms"], 1), m["errors"],
                         round(m["server_cpu_s"], 2), round(m["client_cpu_s"], 2)])
    print(table(["run", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "server CPU s",
                 "client CPU s"], rows))
    print()
    best = r["best"]
    sts, noop, paced = best["sts"], best["noop"], best["sts_paced"]
    per_pair = r["assume_role_calls"] / r["distinct_user_scope"]
    summary = {"sts_cached_rps": round(sts["rps"], 1), "sts_cached_p99_ms": round(paced["p99_ms"], 2),
               "noop_rps": round(noop["rps"], 1), "sts_calls_per_user_scope": round(per_pair, 3)}
    ratio = sts["rps"] / noop["rps"] if noop["rps"] else 0.0
    errors = sum(m["errors"] for rr in r["runs"] for m in rr.values())
    print(table(["figure", "value"], [
        ["sts_cached_rps (closed loop, best repetition)", summary["sts_cached_rps"]],
        [f"sts_cached_p99_ms (paced at {args.rate:g}/s, same rep.)", summary["sts_cached_p99_ms"]],
        ["  paced run: achieved req/s", round(paced["rps"], 1)],
        ["  closed-loop p99 ms (50 in flight, saturated)", round(sts["p99_ms"], 2)],
        ["noop_rps (closed loop, same repetition)", summary["noop_rps"]],
        ["ratio sts / noop", round(ratio, 3)],
        ["sts_calls_per_user_scope", summary["sts_calls_per_user_scope"]],
        ["AssumeRole calls / distinct (user, scope)",
         f"{r['assume_role_calls']} / {r['distinct_user_scope']}"],
        ["warm-up: 2nd fetch gave other credentials", r["warm_mismatched"]],
        ["concurrent users (connections)", r["users"]],
        ["load-generator processes", r["client_procs"]],
        ["client CPU % of one core (sts run)", round(100 * sts["client_cpu_s"] / sts["wall_s"], 1)],
        ["server CPU % of one core (sts run)", round(100 * sts["server_cpu_s"] / sts["wall_s"], 1)],
        ["non-200 answers (all runs)", errors]]))
    if paced["rps"] < 0.95 * args.rate:
        print(f"note: the paced run reached only {paced['rps']:.0f} of {args.rate:g} req/s: the server "
              "(or this machine) could not keep up, and its p99 includes the queueing")
    print(f"\n{load_note()} (before: {' '.join(f'{x:.1f}' for x in load_before)})")
    # The four figures top-level, and again as `summary` (what benchmarks/run_all.py collects).
    doc = {**summary, "summary": summary,
           "context": {"benchmark": "appserver", "quick": args.quick, "machine": machine(),
                       "loadavg_before": load_before, "users": r["users"], "seconds": seconds, "reps": reps,
                       "client_procs": r["client_procs"], "ratio_sts_over_noop": round(ratio, 3),
                       "paced_rate": args.rate, "paced_achieved_rps": round(paced["rps"], 1),
                       "sts_saturated_p99_ms": round(sts["p99_ms"], 2),
                       "assume_role_calls": r["assume_role_calls"],
                       "distinct_user_scope": r["distinct_user_scope"],
                       "warm_mismatched": r["warm_mismatched"],
                       "run_s": round(r["run_s"], 1),
                       "runs": [{k: {kk: (round(vv, 3) if isinstance(vv, float) else vv)
                                     for kk, vv in m.items()} for k, m in rr.items()} for rr in r["runs"]]}}
    write_json(args.out, doc)
    print(f"figures written to {args.out}")
    return 0 if errors == 0 and r["warm_mismatched"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
