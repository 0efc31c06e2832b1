"""ali-oss, the official Node SDK (pinned in tests/js), against the local cloud with default options.

The only options set are what every caller sets: an IP endpoint `http://127.0.0.1:PORT`, the region
`oss-cn-hangzhou`, the bucket, the credentials, and `authorizationV4: true` for V4. ali-oss then
sends the bucket only in `Host: workbook.oss-cn-hangzhou.aliyuncs.com` with the path `/<key>`, so
the local cloud must route by the Host header. Put, get and a three-part multipartUpload, with the
account key and with STS credentials; the stored bytes are read back through oss2.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import oss2
import pytest

from helpers.localcloud.server import LocalCloudServer
from tests.node_deps import JS_DIR, ensure_node_modules
from tests.sdk.conftest import BUCKET, REGION, StsCredentials

SCRIPT = JS_DIR / "alioss_roundtrip.js"
PART = 100 * 1024                     # OSS's (and ali-oss's) smallest part
MULTI_SIZE = 2 * PART + 12345         # three parts, the last one short


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return ensure_node_modules()


def _payload(size: int) -> bytes:
    return bytes((i * 7919 + (i >> 8)) & 0xFF for i in range(size))


def _run(cloud: LocalCloudServer, tmp_path: Path, *, key_id: str, secret: str, token: str | None,
         v4: bool, prefix: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is missing: apt-get install nodejs"
    source = tmp_path / "multi.bin"
    source.write_bytes(_payload(MULTI_SIZE))
    cfg = {"endpoint": cloud.oss_endpoint, "region": f"oss-{REGION}", "bucket": BUCKET,
           "accessKeyId": key_id, "accessKeySecret": secret, "stsToken": token, "authorizationV4": v4,
           "prefix": prefix, "file": str(source), "partSize": PART}
    proc = subprocess.run([node, str(SCRIPT), json.dumps(cfg)], cwd=JS_DIR, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0 and "error" not in doc, doc
    assert secret not in proc.stdout + proc.stderr
    return doc


def _check(doc: dict[str, Any], bucket: oss2.Bucket, prefix: str, v4: bool) -> None:
    small = f"hello from ali-oss {'v4' if v4 else 'v1'}\n".encode()
    assert doc["put"]["status"] == 200 and doc["put"]["name"] == prefix + "small.txt"
    assert doc["get"] == {"status": 200, "md5": hashlib.md5(small).hexdigest(), "size": len(small)}
    assert bucket.get_object(prefix + "small.txt").read() == small
    mp = doc["multipart"]
    assert mp["status"] == 200 and mp["name"] == prefix + "multi.bin"
    assert mp["progress"][-1] == 1 and len(mp["progress"]) >= 3
    stored = bucket.get_object(prefix + "multi.bin")
    assert stored.read() == _payload(MULTI_SIZE)
    assert stored.headers["x-oss-object-type"] == "Multipart" and stored.etag.endswith("-3")


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_alioss_default_options_account_key(
    node_modules: Path, cloud: LocalCloudServer, creds: dict[str, Any], workbook_bucket: oss2.Bucket,
    tmp_path: Path, unique: Any, v4: bool,
) -> None:
    prefix = unique("alioss-ak") + "/"
    admin = creds["admin"]
    doc = _run(cloud, tmp_path, key_id=admin["access_key_id"], secret=admin["access_key_secret"], token=None,
               v4=v4, prefix=prefix)
    _check(doc, workbook_bucket, prefix, v4)


@pytest.mark.parametrize("v4", [False, True], ids=["v1", "v4"])
def test_alioss_default_options_sts(
    node_modules: Path, cloud: LocalCloudServer, sts_credentials: StsCredentials,
    workbook_bucket: oss2.Bucket, tmp_path: Path, unique: Any, v4: bool,
) -> None:
    prefix = unique("alioss-sts") + "/"
    c = sts_credentials
    doc = _run(cloud, tmp_path, key_id=c.access_key_id, secret=c.access_key_secret, token=c.security_token,
               v4=v4, prefix=prefix)
    _check(doc, workbook_bucket, prefix, v4)
