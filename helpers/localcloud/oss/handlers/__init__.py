"""The OSS operation handlers, by operation name: resolved from the `handler` paths of the one
operation table (`routing.SERVED`), so a name cannot have a handler the table does not know."""

from __future__ import annotations

import importlib

from helpers.localcloud.oss.call import Handler
from helpers.localcloud.oss.routing import SERVED


def resolve(path: str) -> Handler:
    """The handler at `module.function` under this package; ImportError/AttributeError if absent."""
    module_name, _, function = path.rpartition(".")
    module = importlib.import_module(f"{__name__}.{module_name}")
    handler: Handler = getattr(module, function)
    return handler


HANDLERS: dict[str, Handler] = {name: resolve(op.handler) for name, op in SERVED.items()}
