"""The local cloud's STS GetCallerIdentity (what provisioning reads the account ID from), through the
official tea SDK, for the three kinds of caller."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_sts20150401 import models as sts_models

from helpers.provision.envfile import read_env_file
from tests.provision.conftest import Run


@pytest.fixture
def provisioned(tmp_path: Path, provision: Run) -> Iterator[dict[str, str]]:
    path = tmp_path / "aliyun.env"
    assert provision("up", "--env-file", str(path))[0] == 0
    yield read_env_file(path)
    provision("down", "--env-file", str(path))


def test_caller_identity_of_owner_user_and_role_session(
    target: Any, account_id: str, provisioned: dict[str, str]
) -> None:
    owner = target.sts().get_caller_identity().body
    assert (owner.identity_type, owner.account_id) == ("Account", account_id)

    user = dataclasses.replace(
        target,
        key_id=provisioned["WORKBOOK_ACCESS_KEY_ID"],
        key_secret=provisioned["WORKBOOK_ACCESS_KEY_SECRET"],
    )
    me = user.sts().get_caller_identity().body
    assert (me.identity_type, me.account_id) == ("RAMUser", account_id)
    assert me.arn == f"acs:ram::{account_id}:user/workbook-appserver"

    creds = (
        user.sts()
        .assume_role(
            sts_models.AssumeRoleRequest(
                role_arn=provisioned["WORKBOOK_ROLE_ARN"], role_session_name="who-am-i"
            )
        )
        .body.credentials
    )
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_tea_openapi import models as api_models

    protocol, _, host = target.sts_endpoint.partition("://")
    session = Client(
        api_models.Config(
            access_key_id=creds.access_key_id,
            access_key_secret=creds.access_key_secret,
            security_token=creds.security_token,
            endpoint=host,
            protocol=protocol,
        )
    )
    role = session.get_caller_identity().body
    assert (role.identity_type, role.account_id) == ("AssumedRoleUser", account_id)
