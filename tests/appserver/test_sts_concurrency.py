"""The (user, scope) credential cache under concurrency (helpers/appserver/services/sts.py): many
simultaneous first requests of one (user, scope) share one AssumeRole, counted by the local cloud's
STS port itself (`GET /_localcloud/stats`). A correctness property, not a timing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from helpers.localcloud.server import LocalCloudServer
from tests.appserver.conftest import RunningAppServer

PER_KEY = 12


def _assume_role_calls(cloud: LocalCloudServer) -> int:
    r = httpx.get(cloud.sts_endpoint + "/_localcloud/stats", trust_env=False, timeout=10)
    assert r.status_code == 200, r.text
    return int(r.json()["assume_role_calls"])


def test_sts_cache_concurrent_first_requests_one_assume_role_per_user_scope(
    appserver: RunningAppServer, cloud: LocalCloudServer, alice: str, bob: str
) -> None:
    jobs = [(token, scope) for token in (alice, bob) for scope in ("upload", "download")] * PER_KEY
    start = threading.Barrier(len(jobs))
    before = _assume_role_calls(cloud)

    with httpx.Client(base_url=appserver.url, trust_env=False, timeout=30,
                      limits=httpx.Limits(max_connections=len(jobs))) as http:
        def fetch(job: tuple[str, str]) -> tuple[str, str, str]:
            token, scope = job
            start.wait()    # every request of every key in flight together, on a cold cache
            r = http.get("/api/sts", params={"scope": scope}, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            return token, scope, str(r.json()["AccessKeyId"])

        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(pool.map(fetch, jobs))

    calls = _assume_role_calls(cloud) - before
    ids: dict[tuple[str, str], set[str]] = {}
    for token, scope, key_id in results:
        ids.setdefault((token, scope), set()).add(key_id)
    assert len(ids) == 4
    assert all(len(v) == 1 for v in ids.values()), "one (user, scope) got different credentials"
    assert len({next(iter(v)) for v in ids.values()}) == 4
    assert calls <= len(ids), f"{calls} AssumeRole calls for {len(ids)} (user, scope) pairs"
