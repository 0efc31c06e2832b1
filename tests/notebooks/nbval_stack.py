"""pytest plugin for the nbval run of `make test` (`pytest -p tests.notebooks.nbval_stack --nbval ...`).

nbval items are plain pytest Items: session fixtures never run for them, and a notebook's kernel copies
os.environ when nbval starts it (in the notebook collector's setup, on its first cell). So before the
first cell of each notebook a FRESH local stack starts in a new state dir, and WORKBOOK_STATE_DIR (with
TZ=UTC, PYTHONHASHSEED=0) is exported for that kernel; the stack stops when the next notebook starts or
the session ends. One fresh stack per notebook is exactly what `python -m helpers.run --refresh` records
the committed outputs from, so no notebook's outputs depend on which notebooks ran before it (the app
server's STS cache, recorded uploads, objects). Works under xdist with `--dist loadfile`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from .common import fresh_stack

_CURRENT = pytest.StashKey[tuple[str, Any]]()


def _stop(config: pytest.Config) -> None:
    current = config.stash.get(_CURRENT, None)
    if current is not None:
        del config.stash[_CURRENT]
        with contextlib.suppress(Exception):
            current[1].__exit__(None, None, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Runs before pytest sets up the item's parents, i.e. before nbval starts the notebook's kernel."""
    if not item.config.getoption("nbval", False) or item.parent is None:
        return
    notebook = str(item.path)
    current = item.config.stash.get(_CURRENT, None)
    if current is not None and current[0] == notebook:
        return
    _stop(item.config)
    stack_cm = fresh_stack("workbook-nbval-")
    stack_cm.__enter__()
    item.config.stash[_CURRENT] = (notebook, stack_cm)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _stop(session.config)
