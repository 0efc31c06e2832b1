"""What provisioning creates, by deterministic name, and the documents it attaches.

    names = Names.of(account_id, region, bucket=None)  # bucket defaults to workbook-<account>-<region>
    trust_policy(account_id)          # who may assume the role: the account's RAM identities
    assume_role_policy(role_arn)      # the app server's user: sts:AssumeRole on that role

The role's permission policy is not here: it is `role_permission_policy` beside the session-policy
builder (helpers/appserver/services/sts.py), so the role can never drift from what sessions ask for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from helpers.protocol.scopes import other_bucket

ROLE_NAME = "workbook-uploader"
USER_NAME = "workbook-appserver"
ROLE_POLICY = "workbook-uploader-oss"           # the role's permission policy
USER_POLICY = "workbook-appserver-assume-role"  # the app server's user: only sts:AssumeRole on the role
APP_USERS = ("alice", "bob")
# Alibaba region IDs look like cn-hangzhou, ap-southeast-1, eu-central-1, cn-wuhan-lr.
REGION_RE = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")


def default_bucket(account_id: str, region: str) -> str:
    """`workbook-<account_id>-<region>`: bucket names are global on OSS, the account ID makes it ours."""
    return f"workbook-{account_id}-{region}"


@dataclass(frozen=True, slots=True)
class Names:
    account_id: str
    region: str
    bucket: str
    other_bucket: str

    @classmethod
    def of(cls, account_id: str, region: str, bucket: str | None = None) -> Names:
        name = bucket or default_bucket(account_id, region)
        return cls(account_id, region, name, other_bucket(name))


def trust_policy(account_id: str) -> dict[str, Any]:
    """The role's trust policy: RAM identities of this account (that are allowed sts:AssumeRole)."""
    return {"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"RAM": [f"acs:ram::{account_id}:root"]}}]}


def assume_role_policy(role_arn: str) -> dict[str, Any]:
    """The app server's RAM user may do one thing: assume this role."""
    return {"Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}
