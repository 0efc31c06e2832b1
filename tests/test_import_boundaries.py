"""Import boundaries of helpers/, read from the source with `ast` (nothing is imported).

Every import counts: top-level, inside a function, and under `if TYPE_CHECKING:`, since each one is a
dependency a reader must follow.

- The app server and the client never import the local cloud: they talk to it over the wire only,
  as they would to Alibaba Cloud.
- The local cloud imports nothing from helpers/ outside itself but the shared protocol package
  (`helpers.protocol`) and the leaf modules listed in LOCALCLOUD_MAY_IMPORT, each with its reason; a
  leaf imports nothing from helpers/ itself, so the local cloud cannot reach the rest through it.
- No import cycles between modules of helpers/.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"

LOCALCLOUD_MAY_IMPORT = {
    # How every server of the workbook listens (socket recipe, uvicorn options, run loop).
    "helpers.serving": "server.py and __main__.py run the OSS/STS/RAM ports with it",
    # One TLS context and no proxy settings from the environment, for every outgoing HTTP request.
    "helpers.http_clients": "oss/callback.py posts upload callbacks to the app server with it",
    # Pure-ASGI middleware shared by the servers.
    "helpers.asgi": "rpc_app.py sets the Date header of STS and RAM answers with its DateHeader",
}
PROTOCOL_PACKAGE = "helpers.protocol"

# name -> the cycle as a path of modules (first == last). The last edge is the one left out when
# checking for other cycles, so an unlisted cycle that needs none of those edges still fails the run.


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(HELPERS.rglob("*.py"))}


def _owner(name: str) -> str | None:
    """The helpers module an imported dotted name lives in (a module, or its nearest package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imported(module: str, path: Path) -> Iterator[str]:
    """Dotted names of the helpers modules that `module` imports, anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from helpers import serving` imports the module helpers.serving.
            names = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]
        else:
            continue
        for name in names:
            owner = _owner(name) if name.split(".")[0] == "helpers" else None
            if owner is not None and owner != module:
                yield owner


GRAPH: dict[str, set[str]] = {m: set(_imported(m, p)) for m, p in MODULES.items()}


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_known_imports() -> None:
    # Guards the walker itself: a top-level import, a `from helpers import x`, a TYPE_CHECKING import.
    assert "helpers.localcloud.accounts" in GRAPH["helpers.stack"]
    assert "helpers.serving" in GRAPH["helpers.localcloud.server"]
    assert "helpers.workbook" in GRAPH["helpers.widgets"]   # under TYPE_CHECKING


@pytest.mark.parametrize("package", ["helpers.appserver", "helpers.client"])
def test_app_server_and_client_never_import_the_local_cloud(package: str) -> None:
    offenders = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if _under(m, package)
                       for d in deps if _under(d, "helpers.localcloud"))
    assert offenders == []


def test_local_cloud_imports_only_itself_protocol_and_listed_leaves() -> None:
    allowed = set(LOCALCLOUD_MAY_IMPORT) | {"helpers"}   # the package root: a docstring and a version
    offenders = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if _under(m, "helpers.localcloud")
                       for d in deps if not (_under(d, "helpers.localcloud") or _under(d, PROTOCOL_PACKAGE)
                                             or d in allowed))
    assert offenders == []


@pytest.mark.parametrize("leaf", sorted(LOCALCLOUD_MAY_IMPORT))
def test_leaves_the_local_cloud_uses_stay_leaves(leaf: str) -> None:
    assert leaf in MODULES
    assert GRAPH[leaf] - {"helpers"} == set()


def test_local_cloud_has_no_import_cycle() -> None:
    local = {m: {d for d in deps if _under(d, "helpers.localcloud")}
             for m, deps in GRAPH.items() if _under(m, "helpers.localcloud")}
    assert _cycles(local) == []


def test_no_import_cycles() -> None:
    assert _cycles({m: set(deps) for m, deps in GRAPH.items()}) == []
