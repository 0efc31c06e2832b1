"""CLI of the app server:

    python -m helpers.appserver serve [--host 127.0.0.1] [--port 0] [--workers 1] [--ready-file F]
        [--credentials FILE --oss-endpoint URL --sts-endpoint URL] [--db PATH] [--public-url URL]
        [--access-log]

Settings come from `WORKBOOK_*` variables (helpers.settings); the flags override them. On the local
target `--credentials` (or WORKBOOK_CREDENTIALS_FILE) supplies the RAM key, role and demo users.
Bad settings are reported one line per variable (`WORKBOOK_<NAME>: reason`, no value) with exit 2.
It prints the URL it serves, never a secret; `--ready-file` gets `{"appserver_url", "pid"}` once it
listens (plus `worker_pids` with `--workers N`). With N > 1 the port is served by N forked workers,
each with its own app (its own STS cache, public-key cache and trace); sessions are accepted by every
worker only because they share WORKBOOK_SESSION_SECRET, which is then required.
uvicorn runs with `log_config=None`; its per-request access log (filtered by
SecretMaskingFilter) only with `--access-log`: it costs about a third of the server's throughput, and
every `/api/*` exchange is already recorded, masked, for `GET /api/trace`. Errors are always logged.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m helpers.appserver", description="The workbook's app server.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the app server's HTTP API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--workers", type=int, default=1,
                   help="worker processes sharing the port (more than 1 needs WORKBOOK_SESSION_SECRET)")
    s.add_argument("--ready-file", type=Path, default=None)
    s.add_argument("--credentials", type=Path, default=None,
                   help="local target: the stack's credentials file")
    s.add_argument("--oss-endpoint", default=None)
    s.add_argument("--sts-endpoint", default=None)
    s.add_argument("--db", type=Path, default=None, help="SQLite file of recorded uploads")
    s.add_argument("--public-url", default=None, help="URL OSS calls back (default: the bound URL)")
    s.add_argument("--log-level", default="INFO")
    s.add_argument("--access-log", action="store_true", help="log every request (costs throughput)")
    s.add_argument("--follow-clock", default=None, metavar="URL",
                   help="local target: follow the local cloud's movable clock (<oss>/_localcloud/clock)")
    return p


def _serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from helpers import serving
    from helpers.appserver.main import create_app
    from helpers.logging import configure_logging
    from helpers.settings import env_name, explain, load_settings

    configure_logging(args.log_level.upper())
    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        sock = serving.bind(args.host, args.port)
    except OSError as exc:
        print(f"error: cannot bind {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    url = serving.url_of(args.host, sock)

    overrides: dict[str, Any] = {}
    for flag, name in (("oss_endpoint", "oss_endpoint"), ("sts_endpoint", "sts_endpoint"),
                       ("credentials", "credentials_file"), ("db", "db_path"),
                       ("public_url", "appserver_public_url")):
        value = getattr(args, flag)
        if value is not None:
            overrides[name] = value
    try:
        settings = load_settings(**overrides)
        if not settings.appserver_public_url:
            settings = settings.model_copy(update={"appserver_public_url": url})
    except (ValidationError, OSError, ValueError, KeyError) as exc:
        problems = explain(exc)
    else:
        problems = []
        if args.workers > 1 and "session_secret" not in settings.model_fields_set:
            problems.append(f"{env_name('session_secret')}: required with --workers {args.workers} "
                            "(every worker must sign and check sessions with the same key)")
    if problems:
        sock.close()
        print("error: invalid settings:\n" + "\n".join(f"  {line}" for line in problems), file=sys.stderr)
        return 2

    def build() -> serving.QuietServer:
        # Called in each worker (after the fork with --workers N): the clock's thread and the app's
        # caches belong to the process that serves with them.
        now = time.time
        if args.follow_clock:
            from helpers.appserver.clock import FollowedClock

            now = FollowedClock(args.follow_clock)
        return serving.QuietServer(serving.config(create_app(settings, now=now), access_log=args.access_log))

    workers = f", {args.workers} workers" if args.workers > 1 else ""
    print(f"app server: {url} (target {settings.target}, bucket {settings.bucket}{workers}; "
          "secrets are not printed)")
    sys.stdout.flush()
    ready_info = {"appserver_url": url}
    if args.workers > 1:
        return serving.run_workers(args.workers, sock, build, ready_file=args.ready_file,
                                   ready_info=ready_info)
    serving.run_until_signalled([(build(), sock)], ready_file=args.ready_file, ready_info=ready_info)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
