"""Crash: `kill -9` the local cloud while 50 clients upload, restart it, and check what survived.

    .venv/bin/python benchmarks/crash.py [--quick] [--rounds N] [--threads N] [--out build/bench/crash.json]

The local cloud runs alone (`python -m helpers.localcloud serve`) on one data directory, on the same
ports across restarts (the first start picks free ports; later starts ask for them), so clients find
it again. Each round, `--threads` threads (oss2, admin key) upload until the server dies: new keys by
PutObject (0 B to 4 MiB), overwrites of the thread's own keys from earlier rounds, and multipart uploads
(initiate, 2-4 parts, complete). The server gets SIGKILL at a random moment, is restarted on the same
directory, and then:

- every acknowledged (200) write must be intact: GET returns exactly the bytes sent, with a CRC-64
  header that matches them (a newer, unacknowledged version that arrived whole is fine; an older one
  is a loss): `crash_acked_lost`;
- nothing partial is visible: every listed object is a key some client sent, with the size and ETag of
  a version sent in full, and every object served is byte-identical to a version sent in full:
  `crash_partial_visible`; listing and GET must agree (`listing_mismatch`);
- every multipart upload whose initiate was acknowledged and not completed is either listed by
  ListMultipartUploads, with every acknowledged part listed intact and no part that was not sent in
  full, and is then resumed (missing parts uploaded, completed, verified), or cleanly absent
  (NoSuchUpload). An acknowledged part that is missing from a listed upload counts as an acked loss.

Body bytes come from a random pool at an offset chosen by key and version, so a mix-up is caught.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import oss2
from benchlib import BENCH_DIR, KiB, MiB, load_note, machine, spawn_localcloud, table, write_json
from oss2.models import PartInfo

BUCKET = "crash-bench"
MAX_PUT = 4 * MiB
PART_MIN = 100 * KiB
_POOL = os.urandom(MAX_PUT + 8 * MiB)


def body_of(label: str, size: int) -> bytes:
    head = f"{label}|{size}|".encode()[:size]
    offset = zlib.crc32(label.encode()) % (len(_POOL) - MAX_PUT)
    return head + _POOL[offset : offset + size - len(head)]


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest().upper()


def crc64(data: bytes) -> str:
    c = oss2.utils.Crc64(0)
    c.update(data)
    return str(c.crc)


@dataclass
class Version:
    """One body sent for a key; `etag` is what OSS must report for it (multipart: md5 of part md5s)."""

    label: str
    size: int
    etag: str
    data_md5: str
    acked: bool = False


@dataclass
class KeyLog:
    versions: list[Version] = field(default_factory=list)
    floor: int | None = None  # index of the newest version acknowledged or seen after a restart


@dataclass
class Multipart:
    key: str
    upload_id: str
    label: str
    part_sizes: list[int]
    acked_parts: dict[int, str] = field(default_factory=dict)  # part number -> ETag
    completed: bool = False

    def part_body(self, n: int) -> bytes:
        return body_of(f"{self.label}#part{n}", self.part_sizes[n - 1])

    def whole(self) -> bytes:
        return b"".join(self.part_body(n) for n in range(1, len(self.part_sizes) + 1))

    def etag(self) -> str:
        digests = b"".join(
            hashlib.md5(self.part_body(n)).digest() for n in range(1, len(self.part_sizes) + 1)
        )
        return f"{hashlib.md5(digests).hexdigest().upper()}-{len(self.part_sizes)}"


@dataclass
class Figures:
    rounds: int = 0
    acked_lost: int = 0
    partial_visible: int = 0
    listing_mismatch: int = 0
    mpu_resumed: int = 0
    mpu_absent: int = 0
    mpu_resume_failed: int = 0
    mpu_unknown_listed: int = 0
    acked_writes: int = 0
    unacked_writes: int = 0
    inflight_at_kill: int = 0
    objects_checked: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems) < 30:
            self.problems.append(f"{kind}: {text}")


class Ledger:
    """What the clients sent and what the server acknowledged, shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: dict[str, KeyLog] = {}
        self.uploads: dict[str, Multipart] = {}
        self.initiating: dict[str, Multipart] = {}  # key -> upload whose initiate got no answer yet

    def attempt(self, key: str, version: Version) -> None:
        with self.lock:
            self.keys.setdefault(key, KeyLog()).versions.append(version)

    def ack(self, key: str, version: Version) -> None:
        with self.lock:
            version.acked = True
            log = self.keys[key]
            log.floor = max(log.floor or 0, log.versions.index(version))


def _bucket(auth: oss2.Auth, endpoint: str) -> oss2.Bucket:
    session = oss2.Session()
    session.session.trust_env = False
    return oss2.Bucket(auth, endpoint, BUCKET, session=session, connect_timeout=5)


class Writer(threading.Thread):
    """One client: uploads until the server goes away (the first failed request ends it)."""

    def __init__(self, n: int, rnd: int, bucket: oss2.Bucket, ledger: Ledger, seed: int) -> None:
        super().__init__(name=f"writer-{n}", daemon=True)
        self.n, self.rnd, self.bucket, self.ledger = n, rnd, bucket, ledger
        self.rng = random.Random(seed * 7_919 + rnd * 1_000 + n)
        self.stop = threading.Event()
        self.in_request = False
        self.acked = 0
        self.unacked = 0
        self.count = 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.count += 1
                roll = self.rng.random()
                if roll < 0.3:
                    self._multipart()
                elif roll < 0.45:
                    self._put(f"hot/t{self.n:02d}-{self.rng.randrange(3)}")
                else:
                    self._put(f"r{self.rnd:03d}/t{self.n:02d}-{self.count:04d}")
        except Exception:  # noqa: BLE001 - the server was killed: this client is done
            self.unacked += 1
        finally:
            self.in_request = False

    def _size(self) -> int:
        r = self.rng.random()
        if r < 0.05:
            return 0
        return int(self.rng.choice([KiB, 64 * KiB, 512 * KiB, MAX_PUT]) * self.rng.random()) + 1

    def _put(self, key: str) -> None:
        size = self._size()
        label = f"{key}#r{self.rnd}c{self.count}"
        data = body_of(label, size)
        version = Version(label, size, md5_hex(data), md5_hex(data))
        self.ledger.attempt(key, version)
        self.in_request = True
        result = self.bucket.put_object(key, data)
        self.in_request = False
        if result.status == 200:  # a wrong ETag is caught when the key is verified
            self.ledger.ack(key, version)
            self.acked += 1

    def _multipart(self) -> None:
        key = f"r{self.rnd:03d}/mpu-t{self.n:02d}-{self.count:04d}"
        label = f"{key}#mpu"
        sizes = [PART_MIN + self.rng.randrange(160 * KiB) for _ in range(self.rng.randrange(2, 5))]
        sizes[-1] = self.rng.randrange(1, 200 * KiB)
        mpu = Multipart(key, "", label, sizes)
        with self.ledger.lock:
            self.ledger.initiating[key] = mpu
        self.in_request = True
        mpu.upload_id = self.bucket.init_multipart_upload(key).upload_id
        self.in_request = False
        upload_id = mpu.upload_id
        with self.ledger.lock:
            del self.ledger.initiating[key]
            self.ledger.uploads[upload_id] = mpu
        self.acked += 1
        parts = []
        for n in range(1, len(sizes) + 1):
            self.in_request = True
            r = self.bucket.upload_part(key, upload_id, n, mpu.part_body(n))
            self.in_request = False
            mpu.acked_parts[n] = r.etag.upper()
            parts.append(PartInfo(n, r.etag))
            self.acked += 1
        whole = mpu.whole()
        version = Version(label, len(whole), mpu.etag(), md5_hex(whole))
        self.ledger.attempt(key, version)
        self.in_request = True
        self.bucket.complete_multipart_upload(key, upload_id, parts)
        self.in_request = False
        mpu.completed = True
        self.ledger.ack(key, version)
        self.acked += 1


def _get(bucket: oss2.Bucket, key: str) -> tuple[bytes, dict[str, str]] | None:
    try:
        r = bucket.get_object(key)
        data = r.read()
        return data, {"etag": r.etag or "", "crc64": r.headers.get("x-oss-hash-crc64ecma", "")}
    except oss2.exceptions.NoSuchKey:
        return None


def verify_keys(bucket: oss2.Bucket, ledger: Ledger, keys: list[str], fig: Figures) -> None:
    """GET each key: acknowledged writes intact, nothing partial served; the floor moves to what is seen."""
    for key in keys:
        log = ledger.keys[key]
        got = _get(bucket, key)
        fig.objects_checked += 1
        if got is None:
            if log.floor is not None:
                fig.problem("acked_lost", f"{key}: acknowledged, now NoSuchKey")
            continue
        data, headers = got
        md5 = md5_hex(data)
        matches = [i for i, v in enumerate(log.versions) if v.data_md5 == md5 and v.size == len(data)]
        if not matches:
            fig.problem("partial_visible", f"{key}: served {len(data)} bytes matching no version sent")
            continue
        if headers["crc64"] != crc64(data):
            fig.problem("partial_visible", f"{key}: CRC-64 header does not match the bytes served")
        i = matches[-1]
        if headers["etag"].strip('"').upper() != log.versions[i].etag:
            fig.problem("partial_visible", f"{key}: ETag does not match the bytes served")
        if log.floor is not None and i < log.floor:
            fig.problem("acked_lost", f"{key}: an older version is back after an acknowledged overwrite")
            continue
        log.floor = i


def verify_listing(bucket: oss2.Bucket, ledger: Ledger, fig: Figures) -> None:
    """Every listed object is a key we sent, at a size and ETag of a version sent in full; and every
    key with an acknowledged (or already seen) version is listed."""
    listed = set()
    for obj in oss2.ObjectIterator(bucket, max_keys=1000):
        listed.add(obj.key)
        log = ledger.keys.get(obj.key)
        if log is None:
            fig.problem("partial_visible", f"{obj.key}: listed but never sent")
            continue
        etag = obj.etag.strip('"').upper()
        if not any(v.size == obj.size and v.etag == etag for v in log.versions):
            fig.problem(
                "partial_visible", f"{obj.key}: listed with size {obj.size}, not a version sent whole"
            )
    for key, log in ledger.keys.items():
        if log.floor is not None and key not in listed:
            fig.problem("listing_mismatch", f"{key}: acknowledged but not listed")


def verify_uploads(bucket: oss2.Bucket, ledger: Ledger, fig: Figures) -> list[str]:
    """Multipart sessions: listed ones have their acknowledged parts and get resumed; others are absent."""
    listed = {u.upload_id: u.key for u in oss2.MultipartUploadIterator(bucket)}
    touched = []
    for upload_id, key in listed.items():
        mpu = ledger.uploads.get(upload_id)
        if mpu is None and key in ledger.initiating:
            # The initiate arrived but its answer did not: the session is real, so resume it too.
            mpu = ledger.uploads[upload_id] = ledger.initiating.pop(key)
            mpu.upload_id = upload_id
        if mpu is None or mpu.key != key:
            fig.problem("mpu_unknown_listed", f"{key}: upload {upload_id[:8]}... listed but never initiated")
        elif mpu.completed:
            fig.problem("listing_mismatch", f"{key}: completed upload still listed")
    ledger.initiating.clear()  # the rest never reached the store
    for upload_id, mpu in list(ledger.uploads.items()):
        if mpu.completed:
            del ledger.uploads[upload_id]
            continue
        if upload_id not in listed:
            try:
                bucket.list_parts(mpu.key, upload_id)
                fig.problem("listing_mismatch", f"{mpu.key}: upload not listed, but its parts are")
            except oss2.exceptions.NoSuchUpload:
                fig.mpu_absent += 1
            del ledger.uploads[upload_id]
            continue
        parts = {p.part_number: p for p in oss2.PartIterator(bucket, mpu.key, upload_id)}
        for n, etag in mpu.acked_parts.items():
            if n not in parts or parts[n].etag.strip('"').upper() != etag:
                fig.problem("acked_lost", f"{mpu.key}: acknowledged part {n} missing or changed")
        for n, p in parts.items():
            good = (
                1 <= n <= len(mpu.part_sizes)
                and p.size == mpu.part_sizes[n - 1]
                and p.etag.strip('"').upper() == md5_hex(mpu.part_body(n))
            )
            if not good:
                fig.problem("partial_visible", f"{mpu.key}: part {n} listed but not as sent")
        try:
            infos = []
            for n in range(1, len(mpu.part_sizes) + 1):
                etag = (
                    parts[n].etag
                    if n in parts
                    else bucket.upload_part(mpu.key, upload_id, n, mpu.part_body(n)).etag
                )
                infos.append(PartInfo(n, etag))
            whole = mpu.whole()
            version = Version(mpu.label, len(whole), mpu.etag(), md5_hex(whole))
            ledger.attempt(mpu.key, version)
            bucket.complete_multipart_upload(mpu.key, upload_id, infos)
            ledger.ack(mpu.key, version)
            fig.mpu_resumed += 1
            touched.append(mpu.key)
        except oss2.exceptions.OssError as exc:
            fig.problem("mpu_resume_failed", f"{mpu.key}: {exc.code} {exc.message}"[:200])
        del ledger.uploads[upload_id]
    return touched


def run(
    rounds: int, threads: int, seed: int, log_dir: Path | None = None
) -> tuple[Figures, list[dict[str, Any]]]:
    fig = Figures()
    per_round: list[dict[str, Any]] = []
    rng = random.Random(seed)
    ledger = Ledger()
    with tempfile.TemporaryDirectory(prefix="crash-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log = (log_dir or tmp) / "crash-localcloud.log"
        proc, info = spawn_localcloud(tmp / "data", tmp / "ready", log)
        oss_port = int(info["oss_endpoint"].rsplit(":", 1)[1])
        sts_port = int(info["sts_endpoint"].rsplit(":", 1)[1])
        creds = json.loads(Path(info["credentials_file"]).read_text(encoding="utf-8"))
        auth = oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
        endpoint = info["oss_endpoint"]
        try:
            _bucket(auth, endpoint).create_bucket(oss2.BUCKET_ACL_PRIVATE)
            for rnd in range(rounds):
                writers = [Writer(n, rnd, _bucket(auth, endpoint), ledger, seed) for n in range(threads)]
                before = {k: len(v.versions) for k, v in ledger.keys.items()}
                for w in writers:
                    w.start()
                delay = rng.uniform(0.15, 1.5)
                time.sleep(delay)
                inflight = sum(w.in_request for w in writers)
                proc.kill()  # SIGKILL: no shutdown code runs
                proc.wait()
                for w in writers:
                    w.stop.set()
                for w in writers:
                    w.join(30)
                t0 = time.perf_counter()
                proc, _ = spawn_localcloud(
                    tmp / "data", tmp / "ready", log, oss_port=oss_port, sts_port=sts_port
                )
                restart_s = time.perf_counter() - t0
                bucket = _bucket(auth, endpoint)
                start_problems = len(fig.problems) + fig.acked_lost + fig.partial_visible
                touched = [k for k, v in ledger.keys.items() if len(v.versions) != before.get(k, 0)]
                verify_keys(bucket, ledger, touched, fig)
                resumed = verify_uploads(bucket, ledger, fig)
                verify_keys(bucket, ledger, resumed, fig)
                verify_listing(bucket, ledger, fig)
                fig.rounds += 1
                acked, unacked = sum(w.acked for w in writers), sum(w.unacked for w in writers)
                fig.acked_writes += acked
                fig.unacked_writes += unacked
                fig.inflight_at_kill += inflight
                per_round.append(
                    {
                        "round": rnd,
                        "kill_after_s": round(delay, 3),
                        "inflight_at_kill": inflight,
                        "acked_requests": acked,
                        "interrupted": unacked,
                        "keys_checked": len(touched),
                        "restart_s": round(restart_s, 2),
                        "clean": len(fig.problems) + fig.acked_lost + fig.partial_visible == start_problems,
                    }
                )
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return fig, per_round


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/crash.py", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="3 rounds (seconds)")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--threads", type=int, default=50)
    p.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "crash.json")
    args = p.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 20)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    started = time.perf_counter()
    fig, per_round = run(rounds, args.threads, seed, args.out.parent)
    took = time.perf_counter() - started
    print(
        table(
            [
                "round",
                "kill after s",
                "in flight at kill",
                "acked requests",
                "interrupted",
                "keys checked",
                "restart s",
                "clean",
            ],
            [
                [
                    r["round"],
                    r["kill_after_s"],
                    r["inflight_at_kill"],
                    r["acked_requests"],
                    r["interrupted"],
                    r["keys_checked"],
                    r["restart_s"],
                    "yes" if r["clean"] else "NO",
                ]
                for r in per_round
            ],
        )
    )
    print()
    summary = {
        "crash_rounds": fig.rounds,
        "crash_acked_lost": fig.acked_lost,
        "crash_partial_visible": fig.partial_visible,
    }
    extra = {
        "listing_mismatch": fig.listing_mismatch,
        "mpu_resumed": fig.mpu_resumed,
        "mpu_absent": fig.mpu_absent,
        "mpu_resume_failed": fig.mpu_resume_failed,
        "mpu_unknown_listed": fig.mpu_unknown_listed,
        "acked_requests": fig.acked_writes,
        "interrupted_requests": fig.unacked_writes,
        "inflight_at_kill": fig.inflight_at_kill,
        "objects_checked": fig.objects_checked,
    }
    print(table(["figure", "value"], [[k, v] for k, v in {**summary, **extra}.items()]))
    for text in fig.problems[:15]:
        print("  problem:", text)
    print(f"\nseed {seed}; {args.threads} writer threads; run took {took:.0f} s; {load_note()}")
    doc = {
        "benchmark": "crash",
        "quick": args.quick,
        "seed": seed,
        "threads": args.threads,
        "machine": machine(),
        "summary": summary,
        "checks": extra,
        "rounds": per_round,
        "problems": fig.problems,
        "seconds": round(took, 1),
    }
    write_json(args.out, doc)
    print(f"figures written to {args.out}")
    bad = (
        fig.acked_lost
        + fig.partial_visible
        + fig.listing_mismatch
        + fig.mpu_resume_failed
        + fig.mpu_unknown_listed
    )
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
