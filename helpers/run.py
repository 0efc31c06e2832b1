"""`make run`: execute the workbook's notebooks with papermill against the local stack.

    python -m helpers.run [--refresh] [--timeout S] [--target local|aliyun] [--solutions]
                          [--junit FILE] [--notebooks-dir DIR] [--out DIR] [NN ...]

Starts (or reuses) the local stack once, in `$WORKBOOK_STATE_DIR` or `.workbook/`, then executes
`notebooks/NN_*.ipynb` in order (kernel `python3`, working directory `notebooks/`, TZ=UTC,
PYTHONHASHSEED=0) into `build/executed/`, writes an offline HTML rendering of each next to it, prints a
table (notebook, seconds, status: a failure's first line whole, wrapped to the terminal) and exits 1 if
any notebook failed or wrote to stderr. `--junit FILE` also writes a JUnit XML report (one testcase per
notebook, the failing cell's error text masked: helpers.run_report).

`--refresh` rewrites the committed notebooks' outputs: it runs each on a FRESH stack of its own in a
temporary state directory (the state nbval replays it on), and only a notebook that passed is written
back, normalised: papermill's and nbclient's run metadata and the widget state are dropped; outputs and
execution counts stay (nbval compares them). It must not import helpers.localcloud (the stack is
reached as processes).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import functools
import os
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from traitlets import Float

from helpers import run_report, stack

PROJECT_ROOT = stack.PROJECT_ROOT
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
BUILD_DIR = PROJECT_ROOT / "build" / "executed"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
KERNEL = "python3"
CELL_TIMEOUT = 120.0
# What every kernel inherits: stable hashes and times in outputs, and the venv's own kernelspec.
KERNEL_ENV = {"TZ": "UTC", "PYTHONHASHSEED": "0", "JUPYTER_PREFER_ENV_PATH": "1"}
# ipykernel 7 warns on every start that loopback TCP is unencrypted; its real errors still show.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]


class KernelManager(AsyncKernelManager):
    """The kernel manager of every run: SIGTERM 0.5 s (not 2.5 s) after a shutdown request goes unheeded.

    ipykernel 7.4's control thread can block on a stdout flush when the shutdown races it (the main
    thread already stopped the IOPub thread; cf. posit-dev/positron#7142), and the kernel then exits
    only on jupyter_client's SIGTERM, half of `shutdown_wait_time` later: about 1 notebook in 15 took
    3 s longer here. By then every output is with the client, and a normal exit takes ~0.1 s.
    """

    shutdown_wait_time = Float(1.0, config=True)


@dataclass
class Result:
    notebook: str
    seconds: float
    ok: bool
    status: str
    detail: str = ""  # a failure's whole error text (masked), for the JUnit report


def notebooks(numbers: Sequence[str] = (), directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The workbook's notebooks in reading order; only those numbered `numbers` when given."""
    found = sorted(directory.glob(NOTEBOOK_GLOB))
    if not numbers:
        return found
    wanted = {n.zfill(2) for n in numbers}
    chosen = [p for p in found if p.name[:2] in wanted]
    missing = wanted - {p.name[:2] for p in chosen}
    if missing:
        raise SystemExit(f"no notebook numbered {', '.join(sorted(missing))} in {directory}")
    return chosen


@contextlib.contextmanager
def kernel_env(state_dir: Path | None = None) -> Iterator[None]:
    """Set what kernels started inside the block inherit (they copy os.environ when they start)."""
    values = dict(KERNEL_ENV)
    if state_dir is not None:
        values["WORKBOOK_STATE_DIR"] = str(state_dir)
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def stderr_cells(nb: Any) -> list[int]:
    """Execution counts (or cell indexes) of the code cells that wrote to stderr."""
    return [
        cell.get("execution_count") or i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and any(
            o.get("output_type") == "stream" and o.get("name") == "stderr" for o in cell.get("outputs", [])
        )
    ]


def normalise(nb: Any) -> Any:
    """Drop run metadata (papermill, nbclient timings, widget state, Python patch version) in place.

    Outputs and execution counts stay: without counts nbval treats every cell as unrun reference.
    """
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    nb.metadata.get("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            cell.metadata.pop("tags")
    return nb


# Mermaid, pinned and committed (vendor/mermaid/PINNED.json): the HTML export inlines it, so the
# sequence diagrams are drawn with no network (nbconvert's own template imports it from a CDN).
MERMAID_JS = PROJECT_ROOT / "vendor" / "mermaid" / "mermaid.min.js"
# Draws each ```mermaid block nbconvert left as <div class="jp-Mermaid"><pre class="mermaid"> as an inline
# <svg> after it (the source stays in the page, hidden); a diagram that fails keeps its source, marked.
_MERMAID_RENDER = """<script>
document.addEventListener("DOMContentLoaded", async () => {
  const blocks = document.querySelectorAll(".jp-Mermaid > pre.mermaid");
  if (!blocks.length || !window.mermaid) return;
  mermaid.initialize({startOnLoad: false, securityLevel: "strict", maxTextSize: 100000});
  let n = 0;
  for (const pre of blocks) {
    try {
      const {svg} = await mermaid.render(`workbook-mermaid-${n++}`, pre.textContent.trim());
      const figure = document.createElement("figure");
      figure.className = "workbook-diagram";
      figure.innerHTML = svg;
      pre.after(figure);
      pre.hidden = true;
    } catch (err) {
      pre.parentNode.classList.add("jp-mod-warning");
      pre.title = String(err);
    }
  }
  document.body.dataset.diagrams = "drawn";
});
</script>
"""

_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{#- No script from a CDN: require.js, MathJax, nbconvert's Mermaid loader and the widget manager are left
    out; render_html inlines the project's pinned Mermaid instead. -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def render_html(nb: Any) -> str:
    """A self-contained HTML page of an executed notebook, readable without a network.

    The lab template with its CSS inlined and images embedded; no remote script is referenced. The
    pinned Mermaid (vendor/mermaid) is inlined when the page has diagrams, so they are drawn as SVG.
    Widgets have no state here (it is never committed), so an output that also carries a static
    `text/html` (the token console's snapshot) shows that instead of an empty widget area.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab", extra_loaders=[DictLoader({"offline.html.j2": _OFFLINE_TEMPLATE})]
    )
    exporter.template_file = "offline.html.j2"
    exporter.embed_images = True
    exporter.exclude_anchor_links = True
    copy = nbformat.from_dict(nb)
    copy.metadata.pop("widgets", None)
    for cell in copy.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                data.pop("application/vnd.jupyter.widget-view+json", None)
    body, _ = exporter.from_notebook_node(copy)
    if '<pre class="mermaid">' in body:
        head, tag, tail = body.rpartition("</body>")
        body = head + _mermaid_scripts() + tag + tail
    return body


@functools.cache
def _mermaid_scripts() -> str:
    """The pinned Mermaid and the renderer, as inline scripts (`</script` escaped inside the code)."""
    code = MERMAID_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")
    return f"<script>\n{code}\n</script>\n{_MERMAID_RENDER}"


@functools.cache
def compile_helpers() -> None:
    """Write the helpers' bytecode (once per process). Where PYTHONDONTWRITEBYTECODE is set, as on
    these CI machines, every kernel would otherwise compile each helper module it imports from
    source, on every start; pip already did this for the installed packages."""
    compileall.compile_dir(PROJECT_ROOT / "helpers", quiet=1)


def execute(
    path: Path,
    out_dir: Path,
    *,
    timeout: float = CELL_TIMEOUT,
    parameters: dict[str, Any] | None = None,
    html: bool = True,
) -> tuple[Result, Any]:
    """Run one notebook into `out_dir` (notebook + HTML); never raises for a notebook's failure."""
    import papermill as pm

    compile_helpers()
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / path.name
    start = time.perf_counter()
    nb = None
    try:
        nb = pm.execute_notebook(
            str(path),
            str(out),
            parameters=parameters or None,
            kernel_name=KERNEL,
            cwd=str(path.parent),
            execution_timeout=timeout,
            progress_bar=False,
            # Written once at the end, not after every cell: a per-cell save re-serialises the whole
            # notebook each time, which cost more than most cells (a failure is still written).
            request_save_on_cell_execute=False,
            extra_arguments=KERNEL_ARGS,
            kernel_manager_class=KernelManager,
        )
        noisy = stderr_cells(nb)
        ok, status = (False, f"FAILED: wrote to stderr (cell {noisy[0]})") if noisy else (True, "ok")
        detail = run_report.stream_text(nb, noisy[0]) if noisy else ""
    except Exception as exc:  # a failed notebook is reported in the table; the run goes on
        summary, detail = run_report.error_text(exc)
        ok, status = False, "FAILED: " + summary
    seconds = time.perf_counter() - start
    if html and out.exists():
        with contextlib.suppress(Exception):  # the HTML is a convenience; its failure is not the notebook's
            executed = nbformat.read(out, as_version=4)
            out.with_suffix(".html").write_text(render_html(executed), encoding="utf-8")
    return Result(path.name, seconds, ok, status, detail), nb


def print_table(results: Sequence[Result], columns: int | None = None) -> None:
    """notebook, seconds, status; a long status wraps under its column at spaces only (never inside a
    variable name or a key), to `columns` (default: the terminal's width, else 120)."""
    width = max([len("notebook"), *(len(r.notebook) for r in results)])
    columns = columns or shutil.get_terminal_size((120, 24)).columns
    indent = " " * (width + 11)
    print(f"{'notebook':<{width}}  {'seconds':>7}  status")
    for r in results:
        lines = textwrap.wrap(r.status, max(columns - len(indent), 40), break_long_words=False,
                              break_on_hyphens=False) or [""]
        print(f"{r.notebook:<{width}}  {r.seconds:7.1f}  {lines[0]}")
        for line in lines[1:]:
            print(indent + line)


def run(
    paths: Sequence[Path],
    *,
    refresh: bool = False,
    timeout: float = CELL_TIMEOUT,
    out_dir: Path = BUILD_DIR,
    parameters: dict[str, Any] | None = None,
) -> list[Result]:
    """Execute `paths` in order on one stack; with `refresh`, write the passing ones back normalised.

    With `parameters={"target": "aliyun"}` no local stack is started (the notebooks read the README's
    environment variables)."""
    results: list[Result] = []
    local = (parameters or {}).get("target", "local") == "local"
    if local and not refresh:
        with kernel_env(stack.state_dir()):
            started = time.perf_counter()
            info = stack.up()
            print(
                f"local stack up in {time.perf_counter() - started:.1f} s: OSS {info.oss_endpoint}, "
                f"app server {info.appserver_url}"
            )
    for path in paths:
        with _stack_for(path, refresh=refresh, local=local) as state, kernel_env(state):
            result, nb = execute(path, out_dir, timeout=timeout, parameters=parameters)
        if refresh and result.ok and nb is not None:
            nbformat.write(normalise(nb), path)
            result.status += ", refreshed on a fresh stack"
        results.append(result)
        print(f"  {result.notebook}: {result.status} ({result.seconds:.1f} s)", flush=True)
    return results


@contextlib.contextmanager
def _stack_for(path: Path, *, refresh: bool, local: bool) -> Iterator[Path]:
    """The state dir a notebook runs with: the shared one, or for --refresh a fresh stack of its own
    (what nbval replays on), so its recorded outputs never depend on the notebooks run before it."""
    if not (refresh and local):
        yield stack.state_dir()
        return
    fresh = Path(tempfile.mkdtemp(prefix="workbook-refresh-"))
    try:
        stack.up(fresh)
        yield fresh
    finally:
        stack.down(fresh)
        shutil.rmtree(fresh, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.run", description=__doc__.split("\n")[0])
    p.add_argument("numbers", nargs="*", metavar="NN", help="only these notebooks (e.g. 00 03)")
    p.add_argument(
        "--refresh",
        action="store_true",
        help="rewrite the committed notebooks' outputs from a run on a fresh stack",
    )
    p.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help="seconds per cell (default 120)")
    p.add_argument(
        "--target",
        choices=["local", "aliyun"],
        default="local",
        help="aliyun runs on Alibaba Cloud with the README's environment variables",
    )
    p.add_argument("--solutions", action="store_true", help="run each exercise's reference solution")
    p.add_argument("--junit", type=Path, default=None, metavar="FILE",
                   help="also write a JUnit XML report (one testcase per notebook)")
    p.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR, metavar="DIR",
                   help="run the NN_*.ipynb of DIR instead of notebooks/")
    p.add_argument("--out", type=Path, default=BUILD_DIR, metavar="DIR",
                   help="where executed copies and HTML go (default build/executed)")
    args = p.parse_args(argv)
    if args.refresh and (args.target != "local" or args.solutions):
        p.error("--refresh records the default run on the local cloud: no --target aliyun, no --solutions")
    parameters: dict[str, Any] = {}
    if args.target != "local":
        parameters["target"] = args.target
    if args.solutions:
        parameters["solutions"] = True
    paths = notebooks(args.numbers, args.notebooks_dir)
    if not paths:
        print(f"no notebooks in {args.notebooks_dir}", file=sys.stderr)
        return 1
    results = run(paths, refresh=args.refresh, timeout=args.timeout, out_dir=args.out,
                  parameters=parameters or None)
    print()
    print_table(results)
    failed = [r for r in results if not r.ok]
    where = args.out.relative_to(PROJECT_ROOT) if args.out.is_relative_to(PROJECT_ROOT) else args.out
    print(
        f"{len(results) - len(failed)} of {len(results)} notebooks passed against "
        f"{'Alibaba Cloud' if args.target == 'aliyun' else 'the local cloud'}; "
        f"executed copies and HTML in {where}/"
    )
    if args.junit:
        run_report.write_junit(results, args.junit, properties={"target": args.target})
        print(f"JUnit report: {args.junit}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
