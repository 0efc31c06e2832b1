"""`down` removes what `up` made and nothing else (after a full and a partial `up`); bad input gets one
`error:` line with the service's code, the list of what was created, exit status 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import oss2
import pytest
from alibabacloud_ram20150501 import models as ram

from helpers.localcloud.server import LocalCloudServer
from helpers.provision.envfile import read_env_file
from tests.provision.conftest import Run, closed_port_url, no_traceback, ram_state

REGION = "cn-hangzhou"
GONE = {
    "role": "EntityNotExist.Role",
    "user": "EntityNotExist.User",
    "keys": "EntityNotExist.User",
    "role_policies": "EntityNotExist.Role",
    "user_policies": "EntityNotExist.User",
    "role_policy": "EntityNotExist.Policy",
    "user_policy": "EntityNotExist.Policy",
}


@pytest.fixture
def env_file(tmp_path: Path, provision: Run) -> Any:
    path = tmp_path / "aliyun.env"
    yield path
    provision("down", "--env-file", str(path))


@pytest.fixture
def unrelated(target: Any, account_id: str) -> Any:
    """Someone's own RAM user and bucket (with an object) in the same account: `down` must leave them."""
    client = target.ram()
    client.create_user(ram.CreateUserRequest(user_name="someone-else"))
    bucket = target.oss_bucket(f"unrelated-{account_id}")
    bucket.create_bucket()
    bucket.put_object("users/alice/keep.txt", b"not the workbook's")
    yield client, bucket
    client.delete_user(ram.DeleteUserRequest(user_name="someone-else"))
    bucket.delete_object("users/alice/keep.txt")
    bucket.delete_bucket()


def _exists(bucket: oss2.Bucket) -> bool:
    try:
        bucket.get_bucket_info()
        return True
    except oss2.exceptions.NoSuchBucket:
        return False


def test_down_after_a_full_up_leaves_only_what_was_not_ours(
    provision: Run, env_file: Path, target: Any, account_id: str, unrelated: Any
) -> None:
    client, other = unrelated
    assert provision("up", "--env-file", str(env_file))[0] == 0
    values = read_env_file(env_file)
    workbook = target.oss_bucket(values["WORKBOOK_BUCKET"])
    workbook.put_object("users/alice/photo.jpg", b"x")  # what the notebooks leave behind
    workbook.init_multipart_upload("users/bob/big.bin")

    code, out, err = provision("down", "--env-file", str(env_file))
    assert code == 0, err
    assert "deleted   user workbook-appserver" in out and "deleted   role workbook-uploader" in out
    assert ram_state(target.ram()) == GONE
    assert not _exists(workbook) and not _exists(target.oss_bucket(values["WORKBOOK_BUCKET"] + "-other"))
    assert not env_file.exists()
    # Not ours: still there.
    assert client.get_user(ram.GetUserRequest(user_name="someone-else")).body.user.user_name == "someone-else"
    assert other.get_object("users/alice/keep.txt").read() == b"not the workbook's"


def test_a_bucket_holding_someone_elses_object_stays(provision: Run, env_file: Path, target: Any) -> None:
    assert provision("up", "--env-file", str(env_file))[0] == 0
    name = read_env_file(env_file)["WORKBOOK_BUCKET"]
    target.oss_bucket(name).put_object("backup/mine.txt", b"x")  # outside users/: not the workbook's
    code, out, err = provision("down", "--env-file", str(env_file))
    assert code == 2
    assert f"error: delete bucket {name}: BucketNotEmpty (HTTP 409)" in err
    assert target.oss_bucket(name).get_object("backup/mine.txt").read() == b"x"
    assert env_file.exists()  # down can be run again
    target.oss_bucket(name).delete_object("backup/mine.txt")
    assert provision("down", "--env-file", str(env_file))[0] == 0


def test_down_after_a_partial_up(
    provision: Run, env_file: Path, owner_env: dict[str, str], target: Any, account_id: str
) -> None:
    env = dict(owner_env, WORKBOOK_RAM_ENDPOINT=closed_port_url())  # OSS answers, RAM does not
    code, out, err = provision("up", "--env-file", str(env_file), env=env)
    no_traceback(out, err)
    bucket = f"workbook-{account_id}-{REGION}"
    assert code == 2
    assert err.splitlines()[0].startswith("error: read role workbook-uploader: Unreachable (no answer)")
    assert err.splitlines()[1] == (
        f"already created: bucket {bucket}, cors {bucket} (origin http://127.0.0.1:8000), "
        f"bucket {bucket}-other"
    )
    assert read_env_file(env_file)["WORKBOOK_PROVISIONED_BUCKETS"] == f"{bucket} {bucket}-other"

    code, out, err = provision("down", "--env-file", str(env_file))
    assert code == 0, err
    assert "absent    role workbook-uploader" in out
    assert f"deleted   bucket {bucket}\n" in out
    assert not _exists(target.oss_bucket(bucket))


def test_a_lost_env_file_with_keys_is_said_clearly(
    provision: Run, env_file: Path, tmp_path: Path, target: Any
) -> None:
    assert provision("up", "--env-file", str(env_file))[0] == 0
    key_id = read_env_file(env_file)["WORKBOOK_ACCESS_KEY_ID"]
    lost = tmp_path / "new.env"
    code, out, err = provision("up", "--env-file", str(lost))
    no_traceback(out, err)
    assert code == 2
    assert "error: reuse an AccessKey of user workbook-appserver: SecretNotInEnvFile" in err
    assert key_id[:8] in err and key_id not in err
    assert "already created: nothing" in err
    keys = ram_state(target.ram())["keys"]["AccessKeys"]["AccessKey"]
    assert [k["AccessKeyId"] for k in keys] == [key_id]  # no second key piled up


def test_a_bucket_of_another_account(provision: Run, env_file: Path, cloud_profile: LocalCloudServer) -> None:
    cloud_profile.ctx.store.create_bucket("taken-by-someone", owner_id="1999999999999999", region=REGION)
    code, out, err = provision("up", "--env-file", str(env_file), "--bucket", "taken-by-someone")
    no_traceback(out, err)
    assert code == 2
    assert err.splitlines()[0].startswith(
        "error: create bucket taken-by-someone: BucketAlreadyExists (HTTP 409): bucket names are global"
    )
    assert err.splitlines()[1] == "already created: nothing"
    assert not env_file.exists()


def test_a_key_without_ram_permissions(
    provision: Run, env_file: Path, owner_env: dict[str, str], target: Any, account_id: str
) -> None:
    client = target.ram()
    client.create_user(ram.CreateUserRequest(user_name="oss-only"))
    client.create_policy(
        ram.CreatePolicyRequest(
            policy_name="oss-only-all",
            policy_document=json.dumps(
                {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "*"}]}
            ),
        )
    )
    client.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="Custom", policy_name="oss-only-all", user_name="oss-only")
    )
    key = client.create_access_key(ram.CreateAccessKeyRequest(user_name="oss-only")).body.access_key
    env = dict(
        owner_env,
        ALIBABA_CLOUD_ACCESS_KEY_ID=key.access_key_id,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=key.access_key_secret,
    )
    try:
        code, out, err = provision("up", "--env-file", str(env_file), env=env)
        no_traceback(out, err)
        assert code == 2
        bucket = f"workbook-{account_id}-{REGION}"
        assert err.splitlines()[0].startswith("error: read role workbook-uploader: NoPermission (HTTP 403)")
        assert err.splitlines()[1] == (
            f"already created: bucket {bucket}, cors {bucket} (origin http://127.0.0.1:8000), "
            f"bucket {bucket}-other"
        )
        assert key.access_key_secret not in out + err
    finally:
        client.delete_access_key(
            ram.DeleteAccessKeyRequest(user_name="oss-only", user_access_key_id=key.access_key_id)
        )
        client.detach_policy_from_user(
            ram.DetachPolicyFromUserRequest(
                policy_type="Custom", policy_name="oss-only-all", user_name="oss-only"
            )
        )
        client.delete_policy(ram.DeletePolicyRequest(policy_name="oss-only-all"))
        client.delete_user(ram.DeleteUserRequest(user_name="oss-only"))


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("xx-nowhere-1", "error: read bucket workbook-{account}-xx-nowhere-1: InvalidArgument (HTTP 400)"),
        ("Mars", "error: check the region: InvalidRegionId (checked before sending)"),
    ],
)
def test_an_unknown_region(
    provision: Run, env_file: Path, owner_env: dict[str, str], account_id: str, region: str, expected: str
) -> None:
    env = {k: v for k, v in owner_env.items() if k != "WORKBOOK_REGION"}
    code, out, err = provision("up", "--env-file", str(env_file), "--region", region, env=env)
    no_traceback(out, err)
    assert code == 2
    assert err.splitlines()[0].startswith(expected.format(account=account_id)), err
    assert err.splitlines()[1] == "already created: nothing"


def test_an_unreachable_endpoint(provision: Run, env_file: Path, owner_env: dict[str, str]) -> None:
    env = dict(owner_env, WORKBOOK_STS_ENDPOINT=closed_port_url())
    code, out, err = provision("up", "--env-file", str(env_file), env=env)
    no_traceback(out, err)
    assert code == 2
    assert err.splitlines()[0].startswith(
        "error: identify the account (STS GetCallerIdentity): Unreachable (no answer)"
    )
    assert err.splitlines()[1] == "already created: nothing"


def test_no_owner_key(provision: Run, env_file: Path, owner_env: dict[str, str]) -> None:
    env = {k: v for k, v in owner_env.items() if not k.startswith("ALIBABA_CLOUD_")}
    code, out, err = provision("up", "--env-file", str(env_file), env=env)
    no_traceback(out, err)
    assert code == 2 and "ALIBABA_CLOUD_ACCESS_KEY_ID" in err


def test_down_without_the_env_file_goes_by_the_names(
    provision: Run, env_file: Path, tmp_path: Path, target: Any, account_id: str
) -> None:
    assert provision("up", "--env-file", str(env_file))[0] == 0
    env_file.unlink()  # lost
    code, out, err = provision("down", "--env-file", str(tmp_path / "never-written.env"))
    assert code == 0, err
    assert ram_state(target.ram()) == GONE
    bucket = f"workbook-{account_id}-{REGION}"
    assert f"deleted   bucket {bucket}\n" in out and f"deleted   bucket {bucket}-other\n" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bucket", "Bad_Name"], "error: check the bucket name: InvalidBucketName"),
        (["--bucket", "x" * 64], "error: check the bucket name: InvalidBucketName"),
        (["--app-url", "not a url"], "error: check --app-url: InvalidUrl"),
        (["--public-url", "ftp://example.com"], "error: check --public-url: InvalidUrl"),
    ],
)
def test_bad_arguments(provision: Run, env_file: Path, args: list[str], expected: str) -> None:
    code, out, err = provision("up", "--env-file", str(env_file), *args)
    no_traceback(out, err)
    assert code == 2
    assert err.splitlines() == [err.splitlines()[0], "already created: nothing"]
    assert err.startswith(expected + " (checked before sending): ")
