"""Workbook benchmark: every notebook through papermill, against as many empty notebooks, in one run.

    .venv/bin/python benchmarks/workbook.py [--quick] [--out build/bench/workbook.json]

`workbook_seconds` is the time of `make run`'s own execution path (helpers.run.execute, one
shared local stack started beforehand and not counted) over notebooks/NN_*.ipynb; the floor is the
same number of empty notebooks (one `pass` cell, same kernel, same papermill options) through the
same path, right after, so kernel start-up and papermill's own cost are measured on the same machine
in the same minute (after one untimed warm-up kernel, so neither side pays the cold first start).
Each notebook, real or empty, counts with the best of `--repeats` runs (3).
`workbook_ratio` = seconds / floor: what the workbook's own cells cost on top.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from benchlib import BENCH_DIR, write_json

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
    failed = [r for r in results + floor_results if not r.ok]
    summary: dict[str, Any] = {"workbook_seconds": round(seconds, 2),
                               "workbook_floor_seconds": round(floor, 2),
                               "workbook_ratio": round(seconds / floor, 3) if floor else None}
    print(f"{'notebook':<36} {'seconds':>8}")
    for r in results:
        print(f"{r.notebook:<36} {r.seconds:8.2f}  {'' if r.ok else r.status}")
    print(f"\n{len(notebooks)} notebooks: {seconds:.1f} s; {len(notebooks)} empty notebooks: {floor:.1f} s; "
          f"ratio {summary['workbook_ratio']}")
    write_json(args.out, {"summary": summary, "notebooks": [dataclasses.asdict(r) for r in results],
                          "failed": [r.notebook for r in failed]})
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
