"""Each notebook, executed by papermill with `solutions=True` on one fresh local stack, leaves the state it
claims: the refusals it shows happened (with their real codes), the uploads the app server recorded for
alice, the objects it keeps or promised to delete, the clock put back, and no secret in its outputs.

FACTS below is the per-notebook table; a notebook missing from it fails (add its facts with it).
Each notebook runs on a fresh stack of its own, as nbval replays it and `helpers.run --refresh` records it.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import oss2
import pytest

from helpers import stack, workbook
from helpers.run import KERNEL, KERNEL_ARGS, NOTEBOOKS_DIR, KernelManager, stderr_cells

from .common import credential_secrets, fresh_stack, output_text, workbook_notebooks


@dataclass(frozen=True)
class Facts:
    """What a notebook run with solutions=True must leave behind.

    refusals: substrings of its `refused: <status> <Code> — ...` lines, all of which must appear;
    uploads:  substrings of keys the app server's callback records gain for alice (via /api/uploads);
    kept:     substrings of keys that exist in the bucket afterwards (anything else the run created
              must be gone: "Cleaning up" deletes what the notebook made);
    ec_lines: lines that must appear as printed (the EC and RecommendDoc line after a refusal).
    """

    refusals: tuple[str, ...] = ()
    ec_lines: tuple[str, ...] = ()
    uploads: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


FACTS: dict[str, Facts] = {
    # 00: a first upload with STS credentials; the wrong password and an anonymous GET are refused.
    "00": Facts(refusals=("refused: 401", "refused: 403 AccessDenied")),
    # 01: upload with STS (临时凭证): bob's folder refused, then the token expires on the moved clock.
    "01": Facts(refusals=("refused: 403 AccessDenied", "refused: 403 SecurityTokenExpired")),
    # 02: signed PUT URLs (签名URL): tampered URL/headers refused, then the URL expires.
    "02": Facts(
        refusals=("refused: 403 SignatureDoesNotMatch", "refused: 403 AccessDenied — Request has expired")
    ),
    # 03: PostObject forms (表单上传): key prefix, size and expiry conditions enforced.
    "03": Facts(
        refusals=(
            "refused: 403 AccessDenied — Invalid according to Policy: Policy Condition failed",
            "refused: 400 EntityTooLarge",
            "refused: 403 AccessDenied — Invalid according to Policy: Policy expired.",
        )
    ),
    # 04: upload callback (上传回调): the app server records the verified upload; forged ones are rejected.
    "04": Facts(refusals=("refused: 400 CallbackRejected",), uploads=("users/alice/callbacks/notes.txt",
                                                                  "users/alice/exercises/callback-notes.txt")),
    # 05: download with a download-scope token: bob's object and writes refused, 404, a changed ETag (412),
    # token expiry.
    "05": Facts(
        refusals=("refused: 403 AccessDenied", "refused: 404 NoSuchKey", "refused: 412 PreconditionFailed",
                  "refused: 403 SecurityTokenExpired")
    ),
    # 06: signed GET URLs: tampering refused, expiry refused.
    "06": Facts(
        refusals=("refused: 403 SignatureDoesNotMatch", "refused: 403 AccessDenied — Request has expired")
    ),
    # 07: permission control (权限控制): session policies narrowed; bad grammar and duration refused by STS.
    "07": Facts(
        refusals=(
            "refused: 403 AccessDenied",
            "refused: 400 InvalidParameter.PolicyGrammar",
            "refused: 400 InvalidParameter.DurationSeconds",
        )
    ),
    # 08: the token console widget: a download token cannot upload; a token past its expiry.
    "08": Facts(refusals=("refused: 403 AccessDenied",)),
    # 09: resumable multipart uploads: too-small parts refused, token refresh across expiry.
    "09": Facts(refusals=("refused: 400 EntityTooSmall", "refused: 403 SecurityTokenExpired")),
    # 10: troubleshooting (常见错误排查): each error provoked, shown with its EC, then explained.
    "10": Facts(
        refusals=(
            "refused: 403 RequestTimeTooSkewed",
            "refused: 403 InvalidAccessKeyId",
            "refused: 403 InvalidSecurityToken",
            "refused: 403 SecurityTokenExpired",
            "refused: 403 SignatureDoesNotMatch",
            "refused: 403 AccessForbidden — CORSResponse",
            "refused: 203 CallbackFailed — Response body is not valid json format",
            "refused: 203 CallbackFailed — Cost too long time",
            "refused: 400 EntityTooSmall",
        ),
        ec_lines=("  EC 0002-00000504 · https://api.aliyun.com/troubleshoot?q=0002-00000504",
                  "  EC 0007-00000205", "  EC 0007-00000203"),
    ),
    # 11: the recap: every flow once more (the form upload recorded by its callback), another user's file
    # refused, the quiz's checker; the tour's files deleted.
    "11": Facts(refusals=("refused: 403 AccessDenied",), uploads=("users/alice/recap/sample.pdf",)),
}

NOTEBOOKS = workbook_notebooks()


@dataclass
class Session:
    directory: Path
    info: stack.StackInfo
    admin: oss2.Bucket
    secrets: list[str]


@pytest.fixture
def session() -> Iterator[Session]:
    """A fresh stack per notebook, as nbval and `--refresh` give each one."""
    with fresh_stack("workbook-papermill-") as (directory, info):
        creds_path = Path(info.credentials_file)
        creds = json.loads(creds_path.read_text(encoding="utf-8"))
        auth = oss2.Auth(creds["admin"]["access_key_id"], creds["admin"]["access_key_secret"])
        yield Session(
            directory, info, oss2.Bucket(auth, info.oss_endpoint, info.bucket), credential_secrets(creds_path)
        )


def _keys(bucket: oss2.Bucket) -> set[str]:
    return {o.key for o in oss2.ObjectIterator(bucket)}


def _alice_uploads(s: Session) -> dict[Any, str]:
    """alice's uploads as the app server recorded them from OSS callbacks: (key, time) → key."""
    book = workbook.connect("local", state_dir=s.directory)
    try:
        return {(u["key"], u["created_at"]): u["key"] for u in book.client("alice").list_uploads()}
    finally:
        book.close()


def _clock_skew(s: Session) -> float:
    """Seconds between the local cloud's clock (its Date header) and real time."""
    r = httpx.get(s.info.oss_endpoint + "/_localcloud/health", timeout=5, trust_env=False)
    return abs(email.utils.parsedate_to_datetime(r.headers["date"]).timestamp() - time.time())


def _execute(path: Path, out: Path) -> Any:
    import papermill as pm

    return pm.execute_notebook(
        str(path),
        str(out),
        parameters={"solutions": True},
        kernel_name=KERNEL,
        cwd=str(NOTEBOOKS_DIR),
        execution_timeout=120,
        progress_bar=False,
        extra_arguments=KERNEL_ARGS,
        kernel_manager_class=KernelManager,
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_with_solutions_and_leaves_its_state(
    path: Path, session: Session, tmp_path: Path
) -> None:
    facts = FACTS.get(path.name[:2])
    assert facts is not None, f"{path.name} has no row in FACTS: add what it must leave behind"
    keys_before = _keys(session.admin)
    uploads_before = _alice_uploads(session)

    nb = _execute(path, tmp_path / path.name)
    text = output_text(nb)

    assert not stderr_cells(nb), f"stderr output in cells {stderr_cells(nb)}"
    assert "Outputs below come from the local cloud" in text
    # the exercise's checker ran the reference solution and passed
    assert "Not answered yet" not in text
    lines = text.splitlines()
    assert any(ln.startswith("✓") for ln in lines), "the exercise's checker printed no ✓ line"
    failed = [ln for ln in lines if ln.startswith("✗")]
    assert not failed, f"the checker failed the reference solution: {failed}"
    refused = [ln for ln in text.splitlines() if ln.startswith("refused: ")]
    for expected in facts.refusals:
        assert any(expected in ln for ln in refused), f"no refusal with {expected!r}; refusals: {refused}"
    for expected in facts.ec_lines:
        assert expected in lines, f"no line {expected!r} after a refusal"
    new_uploads = [k for i, k in _alice_uploads(session).items() if i not in uploads_before]
    for expected in facts.uploads:
        assert any(expected in u for u in new_uploads), f"no upload {expected!r} recorded; new: {new_uploads}"
    keys_after = _keys(session.admin)
    for expected in facts.kept:
        assert any(expected in k for k in keys_after), (
            f"{expected!r} should exist; bucket: {sorted(keys_after)}"
        )
    leftovers = sorted(k for k in keys_after - keys_before if not any(e in k for e in facts.kept))
    assert not leftovers, f"objects left behind despite 'Cleaning up': {leftovers}"
    assert _clock_skew(session) < 60, "the local cloud's clock was left moved (book.reset_clock())"
    leaked = [s[:4] for s in session.secrets if s in json.dumps(nb)]
    assert not leaked, f"secrets of the credentials file in the outputs (starting {leaked})"
