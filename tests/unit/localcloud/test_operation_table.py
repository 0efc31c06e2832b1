"""The OSS operation table is the one place for an API's action, resource level, handler and auth mode.

Every operation resolves to a handler, every handler is reached from the table (or the admin table),
and no handler names a RAM action itself: if one did, the table and the handler could disagree.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import get_type_hints

from starlette.responses import Response

from helpers.localcloud.oss import handlers, routing
from helpers.localcloud.oss.call import Call
from helpers.localcloud.oss.handlers import HANDLERS
from helpers.localcloud.oss.handlers.admin import ADMIN

HANDLER_DIR = Path(handlers.__file__).parent
_ACTION = re.compile(r"""["'](?:oss|sts|ram):[A-Za-z*]""")


def _handler_functions() -> set[object]:
    """Public coroutine functions `(Call) -> Response` defined in the handler modules."""
    found: set[object] = set()
    for info in pkgutil.iter_modules(handlers.__path__):
        module = importlib.import_module(f"{handlers.__name__}.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.iscoroutinefunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            hints = get_type_hints(fn)
            params = [h for k, h in hints.items() if k != "return"]
            if params == [Call] and hints.get("return") is Response:
                found.add(fn)
    return found


def test_every_operation_has_a_handler() -> None:
    assert set(HANDLERS) == set(routing.SERVED)
    for name, op in routing.SERVED.items():
        assert op.name == name
        assert inspect.iscoroutinefunction(HANDLERS[name]), name


def test_every_handler_has_an_operation() -> None:
    reached = set(HANDLERS.values()) | set(ADMIN.values())
    assert _handler_functions() - reached == set()


def test_no_handler_names_an_action() -> None:
    offenders = [f"{path.name}:{n}" for path in sorted(HANDLER_DIR.glob("*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if _ACTION.search(line)]
    assert offenders == []


def test_table_fields_agree_with_auth_mode() -> None:
    for op in routing.SERVED.values():
        if op.auth == "none":
            assert op.action is None and op.source_action is None, op.name
        else:
            assert op.action is not None and op.action.startswith("oss:"), op.name
    copies = {n for n, op in routing.OPERATIONS.items() if op.source_action is not None}
    assert copies == {"CopyObject", "UploadPartCopy"}


def test_routing_imports_no_starlette() -> None:
    for module in ("routing", "request"):
        tree = ast.parse((HANDLER_DIR.parent / f"{module}.py").read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "starlette"], module
