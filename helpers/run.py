"""`make run`: bring up the local stack and run the workbook's checks against it.

Until the notebooks land, the workbook is this sequence of real calls through the official SDKs:
health of both ports, the bucket, STS AssumeRole with a per-user session policy, an upload inside
the user's prefix, a refusal outside it, a signed URL, and expiry on the movable clock. It prints a
table (step, seconds, status) and exits non-zero when any step fails. No secret is printed.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import httpx

from helpers import stack, workbook


def _session_policy(bucket: str, user: str) -> str:
    return json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": ["oss:PutObject", "oss:GetObject"],
        "Resource": [f"acs:oss:*:*:{bucket}/users/{user}/*"]}]})


def main() -> int:
    import oss2

    results: list[tuple[str, float, str]] = []
    state: dict[str, Any] = {}

    def step(name: str, fn: Callable[[], str | None]) -> bool:
        start = time.perf_counter()
        try:
            detail = fn() or "ok"
            ok = True
        except Exception as exc:  # a failed step is reported, then the run exits non-zero
            detail = f"FAILED: {type(exc).__name__}: {str(exc)[:120]}"
            traceback.print_exc(file=sys.stderr)
            ok = False
        results.append((name, time.perf_counter() - start, detail))
        return ok

    def start_stack() -> str:
        state["info"] = info = stack.up()
        state["book"] = workbook.connect("local")
        return f"OSS {info.oss_endpoint}, STS {info.sts_endpoint} (local cloud)"

    def health() -> str:
        r = httpx.get(state["info"].oss_endpoint + "/_localcloud/health", timeout=5, trust_env=False)
        r.raise_for_status()
        return "both ports answer"

    def sts_token() -> str:
        c = state["book"].assume_role(_session_policy(state["info"].bucket, "alice"),
                                      session_name="workbook-alice")
        state["sts"] = c
        return f"AccessKeyId {c['AccessKeyId'][:8]}…, expires {c['Expiration']}"

    def sts_bucket(version: str = "v1") -> oss2.Bucket:
        c, info = state["sts"], state["info"]
        auth = oss2.StsAuth(c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"], auth_version=version)
        return oss2.Bucket(auth, info.oss_endpoint, info.bucket, region=info.region)

    def upload_own() -> str:
        r = sts_bucket("v4").put_object("users/alice/hello.txt", b"hello from the workbook")
        return f"HTTP {r.status}, crc64 {r.crc}"

    def refused_other() -> str:
        try:
            sts_bucket().put_object("users/bob/intrusion.txt", b"x")
        except oss2.exceptions.AccessDenied as e:
            return f"refused: {e.status} {e.code}"
        raise AssertionError("alice's token wrote into bob's folder")

    def signed_url() -> str:
        url = sts_bucket("v4").sign_url("GET", "users/alice/hello.txt", 60)
        r = httpx.get(url, timeout=10, trust_env=False)
        if r.status_code != 200 or r.content != b"hello from the workbook":
            raise AssertionError(f"signed GET answered {r.status_code}")
        state["url"] = url
        return "GET 200, body intact"

    def expiry() -> str:
        oss = state["info"].oss_endpoint
        # The URL was signed for 60 s and the token for 900 s: two minutes on, only the URL is dead.
        httpx.post(oss + "/_localcloud/clock", json={"advance": 120}, timeout=5, trust_env=False)
        try:
            r = httpx.get(state["url"], timeout=10, trust_env=False)
            if r.status_code != 403 or b"Request has expired" not in r.content:
                raise AssertionError(f"expired URL answered {r.status_code}")
            httpx.post(oss + "/_localcloud/clock", json={"advance": 900}, timeout=5, trust_env=False)
            try:
                sts_bucket().get_object("users/alice/hello.txt").read()
            except oss2.exceptions.ServerError as e:
                if e.code != "SecurityTokenExpired":
                    raise
            else:
                raise AssertionError("an expired token still worked")
        finally:
            httpx.post(oss + "/_localcloud/clock", json={"offset": 0}, timeout=5, trust_env=False)
        return "URL: 403 Request has expired; token: SecurityTokenExpired"

    ok = step("start the local stack", start_stack)
    steps = [("health of OSS and STS", health), ("STS AssumeRole for alice (临时凭证)", sts_token),
             ("upload into users/alice/", upload_own), ("write into users/bob/ is refused", refused_other),
             ("signed URL download (签名URL)", signed_url), ("expiry on the moved clock", expiry)]
    for name, fn in steps:
        ok = ok and step(name, fn)
    width = max(len(r[0]) for r in results)
    print(f"{'step':<{width}}  {'seconds':>7}  status")
    for name, seconds, detail in results:
        print(f"{name:<{width}}  {seconds:7.2f}  {detail}")
    print("all steps passed" if ok else "a step failed", "(against the local cloud)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
