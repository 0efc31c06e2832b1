"""Fuzz: many malformed requests at the OSS port, the STS port and the app server; no 5xx, no crash.

    .venv/bin/python benchmarks/fuzz.py [--quick] [--requests N] [--workers N] [--out build/bench/fuzz.json]

Starts the real stack (`helpers.stack.up` on a fresh directory). `--workers` processes each run a
hypothesis `@given` (generation phase only, no database, no shrinking: a bad answer is counted and
the run goes on) over one strategy that draws a whole request, and send it over a raw keep-alive
socket (so paths keep `..` and control characters exactly, headers can be huge or invalid, and bodies
can be truncated). Requests cover:

- OSS: unsigned and V1-signed (account owner's key, so requests get past authentication into the
  handlers) with random methods, traversal and control-character keys, sub-resources, bad Range,
  Content-MD5, dates, callbacks (bad base64 and JSON) and user metadata, malformed and huge XML bodies
  (Delete, CompleteMultipartUpload, CORS), PostObject forms with bad policies (bad base64, bad JSON,
  junk conditions, a correct signature over a junk policy), bad multipart framing;
- STS: unsigned and correctly RPC-signed (the app server's RAM key) AssumeRole with junk RoleArn,
  RoleSessionName, Policy and DurationSeconds, wrong methods and bodies;
- app server: login, STS, signed-URL, post-policy, uploads, trace and callback endpoints, with and
  without a valid bearer session, junk JSON, wrong types, traversal keys, bad callback signatures and
  public-key URLs, wrong methods, unknown paths;
- transport: truncated bodies (the client hangs up mid-body), Content-Length far beyond the body,
  huge and very many headers, invalid request lines.

Every answer must be < 500 and in the service's own format: OSS XML with Code and RequestId (a HEAD
error: an `x-oss-err` header) and an `x-oss-request-id` header; STS JSON with Code and RequestId; app
server JSON with `detail`. Requests that are not valid HTTP/1.1 at all (invalid request line or
header bytes) are answered by the HTTP server layer before any service code and are counted apart
(`protocol_rejects`), as are requests the client abandoned on purpose. A crash is a server process
that died or stopped answering its health check. The admin endpoints under `/_localcloud/` (loopback
only: the movable clock) are left out.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from benchlib import BENCH_DIR, load_note, machine, table, write_json
from fuzz_checks import PROTOCOL_REJECT, Tally, format_problem, merge
from fuzz_request_model import FUZZ_BUCKET, Keys, Req
from fuzz_requests import any_request
from fuzz_wire import RawConn
from hypothesis import HealthCheck, Phase, given, settings

from helpers import stack


def send_one(conns: dict[str, RawConn], req: Req, t: Tally) -> None:
    t.requests += 1
    row = t.by_kind.setdefault(req.kind, [0, 0, 0])
    row[0] += 1
    conn = conns[req.target]
    payload = req.encode(f"{conn.addr[0]}:{conn.addr[1]}")
    try:
        answer = conn.send(payload, req.method, hang_up=req.hang_up)
    except TimeoutError:
        conn.close()
        t.timeouts += 1
        t.sample(req, "timeout")
        return
    except (ConnectionError, OSError, ValueError, IndexError):
        conn.close()
        answer = None
    if answer is None:
        if req.hang_up:
            t.hung_up += 1
        elif req.invalid_http:
            t.protocol_rejects += 1
        else:
            t.no_answer += 1
            t.sample(req, "no answer")
        return
    t.by_status[str(answer.status)] = t.by_status.get(str(answer.status), 0) + 1
    if answer.status >= 500:
        t.server_errors += 1
        row[1] += 1
        t.sample(req, f"{answer.status} {answer.body[:200]!r}")
        return
    problem = format_problem(req, answer)
    if problem is None:
        return
    if answer.status == 400 and answer.body == PROTOCOL_REJECT:
        t.protocol_rejects += 1  # the HTTP parser refused the bytes: no service code ran
        return
    if req.invalid_http or req.hang_up or req.kind.startswith("transport"):
        t.protocol_rejects += 1  # answered by the HTTP layer (uvicorn), before any service code
        return
    t.format_errors += 1
    row[2] += 1
    t.sample(req, f"{problem} ({answer.status} {answer.body[:160]!r})")


def worker(args: tuple[Keys, int, int]) -> Tally:
    keys, count, seed = args
    conns = {"oss": RawConn(*keys.oss), "sts": RawConn(*keys.sts), "app": RawConn(*keys.app)}
    tally = Tally()

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(req=any_request(keys))
    def drive(req: Req) -> None:
        send_one(conns, req, tally)

    drive()
    # hypothesis may stop a little short of max_examples (duplicates); top up with fresh draws.
    while tally.requests < count:
        drive()
    for c in conns.values():
        c.close()
    return tally


# ------------------------------------------------------------------------------------ the run


def _healthy(info: stack.StackInfo) -> dict[str, bool]:
    out = {}
    for name, url in (
        ("oss", info.oss_endpoint + "/_localcloud/health"),
        ("sts", info.sts_endpoint + "/"),
        ("app", (info.appserver_url or "") + "/openapi.json"),
    ):
        try:
            out[name] = httpx.get(url, timeout=10, trust_env=False).status_code < 500
        except httpx.HTTPError:
            out[name] = False
    return out


def _hostport(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def run(total: int, workers: int, chunks: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fuzz-bench-") as tmp_name:
        directory = Path(tmp_name)
        info = stack.up(directory, timeout=60)
        try:
            import oss2

            from helpers.client.appserver_api import AppServerClient

            creds = json.loads(Path(info.credentials_file).read_text(encoding="utf-8"))
            oss2.Bucket(
                oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"]),
                info.oss_endpoint,
                FUZZ_BUCKET,
            ).create_bucket()
            user = creds["app_users"][0]
            with AppServerClient(info.appserver_url or "") as api:
                bearer = api.login(user["username"], user["password"]).access_token
            keys = Keys(
                creds["admin"]["access_key_id"],
                creds["admin"]["access_key_secret"],
                creds["appserver"]["access_key_id"],
                creds["appserver"]["access_key_secret"],
                bearer,
                user["username"],
                _hostport(info.oss_endpoint),
                _hostport(info.sts_endpoint),
                _hostport(info.appserver_url or ""),
                info.oss_endpoint,
            )
            pids = {"localcloud": info.localcloud_pid, "appserver": info.appserver_pid or 0}
            total_tally = Tally()
            crashes = 0
            health_failures: list[str] = []
            t0 = time.perf_counter()
            per_chunk = -(-total // chunks)
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers) as pool:
                done = 0
                while done < total:
                    n = min(per_chunk, total - done)
                    shares = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
                    jobs = [(keys, s, int.from_bytes(os.urandom(4), "big")) for s in shares if s]
                    for t in pool.map(worker, jobs):
                        merge(total_tally, t)
                    done += n
                    dead = [
                        name
                        for name, pid in pids.items()
                        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
                    ]
                    sick = [name for name, ok in _healthy(info).items() if not ok]
                    if dead or sick:
                        crashes += len(dead) + (len(sick) if not dead else 0)
                        health_failures.append(f"after {done} requests: dead {dead}, not answering {sick}")
                        break
            wall = time.perf_counter() - t0
        finally:
            stack.down(directory)
    return {"tally": total_tally, "crashes": crashes, "health_failures": health_failures, "wall_s": wall}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/fuzz.py", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="2,000 requests (seconds)")
    p.add_argument("--requests", type=int, default=None)
    p.add_argument("--workers", type=int, default=3, help="client processes")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "fuzz.json")
    args = p.parse_args(argv)
    total = args.requests or (2_000 if args.quick else 100_000)
    chunks = 1 if total <= 5_000 else 10
    r = run(total, args.workers, chunks)
    t: Tally = r["tally"]
    print(
        table(
            ["request kind", "count", "5xx", "format errors"],
            [[k, *row] for k, row in sorted(t.by_kind.items())],
        )
    )
    print()
    summary = {
        "fuzz_requests": t.requests,
        "fuzz_server_errors": t.server_errors,
        "fuzz_crashes": r["crashes"],
    }
    extra = {
        "format_errors": t.format_errors,
        "protocol_rejects": t.protocol_rejects,
        "hung_up_on_purpose": t.hung_up,
        "no_answer": t.no_answer,
        "timeouts": t.timeouts,
    }
    rate = t.requests / r["wall_s"] if r["wall_s"] else 0.0
    print(
        table(
            ["figure", "value"],
            [[k, v] for k, v in {**summary, **extra}.items()]
            + [["requests/s", round(rate)], ["wall s", round(r["wall_s"], 1)], ["workers", args.workers]],
        )
    )
    print("statuses:", ", ".join(f"{k}: {v}" for k, v in sorted(t.by_status.items())))
    for s in t.samples[:12]:
        print("  sample:", s)
    for h in r["health_failures"]:
        print("  CRASH:", h)
    print(f"\n{load_note()}")
    doc = {
        "benchmark": "fuzz",
        "quick": args.quick,
        "machine": machine(),
        "summary": summary,
        "checks": extra,
        "requests_per_s": round(rate, 1),
        "wall_s": round(r["wall_s"], 1),
        "workers": args.workers,
        "by_kind": t.by_kind,
        "by_status": t.by_status,
        "samples": t.samples,
        "health_failures": r["health_failures"],
    }
    write_json(args.out, doc)
    print(f"figures written to {args.out}")
    bad = t.server_errors + r["crashes"] + t.format_errors + t.no_answer + t.timeouts
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
