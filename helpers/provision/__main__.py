"""Provision the workbook on Alibaba Cloud in one idempotent command (issue 11), or remove it:

    python -m helpers.provision up   --env-file FILE [--bucket NAME] [--region R]
                                     [--app-url URL] [--public-url URL]
    python -m helpers.provision down --env-file FILE [--region R]

Reads the account owner's AccessKey from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
and the endpoints from WORKBOOK_OSS_ENDPOINT / WORKBOOK_STS_ENDPOINT / WORKBOOK_RAM_ENDPOINT (default:
the region's public endpoints). Prints one line per resource (created / updated / unchanged / deleted /
absent), never a secret. On a refusal: one `error:` line with the service's error code, the list of
what was already created, exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from helpers.provision.clients import MissingKey
from helpers.provision.commands import DEFAULT_APP_URL, down, up
from helpers.provision.envfile import EnvFileError
from helpers.provision.report import Report, StepFailed


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m helpers.provision", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    u = sub.add_parser("up", help="create or update the bucket, RAM user, key, role; write the env file")
    u.add_argument("--env-file", type=Path, required=True, help="KEY=VALUE file to write (mode 0600)")
    u.add_argument("--bucket", default=None, help="default: workbook-<account-id>-<region>")
    u.add_argument("--region", default=None, help="default: $WORKBOOK_REGION, the env file's, or cn-hangzhou")
    u.add_argument("--app-url", default=DEFAULT_APP_URL,
                   help="where browsers open the app server: the CORS origin and WORKBOOK_APPSERVER_URL")
    u.add_argument("--public-url", default=None,
                   help="the app server's URL OSS calls back (internet-reachable)")
    d = sub.add_parser("down", help="remove what `up` created, and the env file")
    d.add_argument("--env-file", type=Path, required=True)
    d.add_argument("--region", default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    report = Report()
    try:
        if args.command == "up":
            up(args.env_file, os.environ, bucket=args.bucket, region=args.region, app_url=args.app_url,
               public_url=args.public_url, report=report)
        else:
            down(args.env_file, os.environ, region=args.region, report=report)
    except StepFailed as failure:
        print(failure.line(), file=sys.stderr)
        done = report.made if args.command == "up" else report.removed
        label = "already created" if args.command == "up" else "already removed"
        print(f"{label}: {', '.join(done) if done else 'nothing'}", file=sys.stderr)
        return 2
    except (MissingKey, EnvFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
