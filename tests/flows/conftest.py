"""Flow fixtures: the real app server and MobileClients of tests/appserver and tests/client, re-used
(fixtures of sibling folders are not visible here, so they are imported, as tests/client does)."""

from __future__ import annotations

try:
    from appserver.conftest import RunningAppServer, appserver, users  # noqa: F401  (fixtures)
    from client.conftest import ClientClock, client_clock, mobile  # noqa: F401
except ImportError:  # a tests/__init__.py makes the packages `tests.*`
    from tests.appserver.conftest import RunningAppServer, appserver, users  # noqa: F401
    from tests.client.conftest import ClientClock, client_clock, mobile  # noqa: F401
