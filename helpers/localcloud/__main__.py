"""CLI of the local cloud (contract in design.md):

    python -m helpers.localcloud serve --data DIR [--host 127.0.0.1] [--oss-port N] [--sts-port M]
                                       [--ram-port R] [--profile local|cloud]

The first start creates DIR/credentials.json (mode 0600): the workbook's account (`local`), or the
owner's key alone (`cloud`: a fresh account, nothing pre-created, no /_localcloud/* routes). It
prints the endpoints and the credentials file's path, never a secret. `--ready-file F` also writes
those as JSON once every port listens (the stack waits on it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from helpers.localcloud.accounts import DEFAULT_BUCKET, DEFAULT_REGION


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m helpers.localcloud",
                                description="A local stand-in for Alibaba Cloud OSS, STS and RAM.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the OSS, STS and RAM ports")
    s.add_argument("--data", required=True, type=Path, help="data directory (objects, keys, credentials)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--oss-port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--sts-port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--ram-port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--profile", choices=("local", "cloud"), default="local",
                   help="local: the workbook's account; cloud: a fresh account (owner key only)")
    s.add_argument("--region", default=DEFAULT_REGION)
    s.add_argument("--bucket", default=DEFAULT_BUCKET, help="bucket the role policy names on first start")
    s.add_argument("--credentials", type=Path, default=None, help="default: DATA/credentials.json")
    s.add_argument("--ready-file", type=Path, default=None)
    return p


def _serve(args: argparse.Namespace) -> int:
    from helpers import serving
    from helpers.localcloud.context import LocalCloudConfig
    from helpers.localcloud.server import LocalCloudServer, build_context

    config = LocalCloudConfig(data_dir=args.data.resolve(), host=args.host, oss_port=args.oss_port,
                              sts_port=args.sts_port, ram_port=args.ram_port, region=args.region,
                              bucket=args.bucket, profile=args.profile,
                              credentials_file=args.credentials.resolve() if args.credentials else None)
    try:
        ctx, created = build_context(config)
        server = LocalCloudServer(ctx)
    except OSError as exc:
        print(f"error: cannot start the local cloud: {exc.strerror or exc}", file=sys.stderr)
        return 2
    info = {"oss_endpoint": server.oss_endpoint, "sts_endpoint": server.sts_endpoint,
            "ram_endpoint": server.ram_endpoint, "region": config.region,
            "account_id": ctx.accounts.account_id,
            "credentials_file": str(config.credentials_path), "profile": config.profile}
    print(f"local cloud (a local stand-in for Alibaba Cloud OSS, STS and RAM; profile {config.profile})")
    print(f"  OSS endpoint: {server.oss_endpoint}")
    print(f"  STS endpoint: {server.sts_endpoint}")
    print(f"  RAM endpoint: {server.ram_endpoint}")
    print(f"  region:       {config.region}")
    state = "created" if created else "existing"
    print(f"  credentials:  {config.credentials_path} ({state}, mode 0600; secrets are not printed)")
    sys.stdout.flush()

    serving.run_until_signalled(server.listeners, ready_file=args.ready_file, ready_info=info)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
