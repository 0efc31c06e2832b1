"""Workbook benchmark: every notebook through papermill, against as many empty notebooks, in one run.

    .venv/bin/python benchmarks/workbook.py [--quick] [--out build/bench/workbook.json]

`workbook_seconds` is the time of `make run`'s own execution path (helpers.run.execute, one
shared local stack started beforehand and not counted) over notebooks/NN_*.ipynb; the floor is the
same number of empty notebooks (one `pass` cell, same kernel, same papermill options) through the
same path, right after, so kernel start-up and papermill's own cost are measured on the same machine
in the same minute (after one untimed warm-up kernel, so neither side pays the cold first start).
Each notebook, real or empty, counts with the best of `--repeats` runs (3).
`workbook_ratio` = seconds / floor: what the workbook's own cells cost on top.

`cloud_run_seconds` is the whole Alibaba Cloud sequence of the README, timed end to end in the same run
(helpers/deploy_sequence.py, each step a process as a reader runs it): the cloud-shaped local stack up,
`provision up`, the app server from the env file, every notebook with `--target aliyun` (executed copies
and HTML, as `make run` writes them), `provision down` and the stack down.
`cloud_run_ratio` = cloud_run_seconds / workbook_seconds (target ≤ 1.5).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from benchlib import BENCH_DIR, write_json

from helpers import deploy_sequence as seq
from helpers import run, stack


def _empty_notebooks(directory: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("pass")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                     "language": "python"}
        path = directory / f"{i:02d}_empty.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def _time(paths: list[Path], out_dir: Path, repeats: int = 1) -> tuple[float, list[run.Result]]:
    """Seconds for `paths`, each the best of `repeats` runs: a kernel's start-up time jumps between
    ~0.7 and ~1.1 s from one start to the next here, and best-of-N takes that noise out of both sides."""
    total, results = 0.0, []
    for path in paths:
        best: run.Result | None = None
        for _ in range(repeats):
            start = time.perf_counter()
            result = run.execute(path, out_dir, html=False)[0]
            took = time.perf_counter() - start
            if best is None or took < best.seconds or not result.ok:
                best = dataclasses.replace(result, seconds=took)
            if not result.ok:
                break
        assert best is not None
        total += best.seconds
        results.append(best)
    return total, results


def _cloud_run(work: Path, only: list[str]) -> tuple[float, str | None]:
    """Seconds of the README's whole Alibaba Cloud sequence on the cloud-shaped local stack, and the
    first failing step's output (None when every step passed)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBOOK_", "ALIBABA_CLOUD_"))}
    base.update(run.KERNEL_ENV, PYTHONPATH=str(stack.PROJECT_ROOT), WORKBOOK_STATE_DIR=str(work / "state"))
    env_file, port = work / "aliyun.env", seq.free_port()
    url = f"http://127.0.0.1:{port}"
    failure: str | None = None
    start = time.perf_counter()
    with seq.cloud_stack(base) as info:
        owner = seq.owner_env(base, info)
        up = seq.run_py(["-m", "helpers.provision", "up", "--env-file", str(env_file), "--app-url", url,
                         "--public-url", url], owner)
        try:
            if up.returncode != 0:
                return time.perf_counter() - start, f"provision up: {up.stderr}"
            deployed = dict(seq.sourced(env_file, base), WORKBOOK_DB_PATH=str(work / "appserver.sqlite3"))
            with seq.appserver(deployed, port, work / "appserver.log"):
                done = seq.run_py(["-m", "helpers.run", "--target", "aliyun", "--out", str(work / "executed"),
                                   *only], {**deployed, "WORKBOOK_APPSERVER_URL": url}, timeout=1200)
                if done.returncode != 0:
                    failure = f"make run --target aliyun:\n{done.stdout}{done.stderr}"
        finally:
            down = seq.run_py(["-m", "helpers.provision", "down", "--env-file", str(env_file)], owner)
            if down.returncode != 0 and failure is None:
                failure = f"provision down: {down.stderr}"
    return time.perf_counter() - start, failure


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/workbook.py", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="only the first three notebooks")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "workbook.json")
    p.add_argument("--repeats", type=int, default=3, help="runs per notebook; the best one counts")
    args = p.parse_args(argv)
    notebooks = run.notebooks()[: 3 if args.quick else None]
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as tmp:
        state, work = Path(tmp) / "state", Path(tmp)
        try:
            with run.kernel_env(state):
                stack.up(state)
                # One untimed kernel first: the first start after a while reads everything cold from disk.
                _time(_empty_notebooks(work, 1), work / "warm-up")
                seconds, results = _time(notebooks, work / "executed", args.repeats)
                empty = _empty_notebooks(work, len(notebooks))
                floor, floor_results = _time(empty, work / "empty-executed", args.repeats)
        finally:
            stack.down(state)
        only = [p.name[:2] for p in notebooks] if args.quick else []
        cloud, cloud_failure = _cloud_run(Path(tmp) / "cloud", only)
    failed = [r for r in results + floor_results if not r.ok]
    summary: dict[str, Any] = {"workbook_seconds": round(seconds, 2),
                               "workbook_floor_seconds": round(floor, 2),
                               "workbook_ratio": round(seconds / floor, 3) if floor else None,
                               "cloud_run_seconds": round(cloud, 2),
                               "cloud_run_ratio": round(cloud / seconds, 3) if seconds else None}
    print(f"{'notebook':<36} {'seconds':>8}")
    for r in results:
        print(f"{r.notebook:<36} {r.seconds:8.2f}  {'' if r.ok else r.status}")
    print(f"\n{len(notebooks)} notebooks: {seconds:.1f} s; {len(notebooks)} empty notebooks: {floor:.1f} s; "
          f"ratio {summary['workbook_ratio']}")
    print(f"the whole cloud-shaped sequence (profile, provision, app server, every notebook on aliyun, "
          f"provision down): {cloud:.1f} s, {summary['cloud_run_ratio']} × workbook_seconds")
    if cloud_failure:
        print(f"cloud run failed: {cloud_failure}")
    write_json(args.out, {"summary": summary, "notebooks": [dataclasses.asdict(r) for r in results],
                          "failed": [r.notebook for r in failed] + (["cloud run"] if cloud_failure else [])})
    return 1 if failed or cloud_failure else 0


if __name__ == "__main__":
    raise SystemExit(main())
