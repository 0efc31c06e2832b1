"""The RAM API (Version 2015-05-01, RPC style): authenticate like STS (`sts.authn`: RPC HMAC-SHA1 or
ACS3-HMAC-SHA256), authorize `ram:<Action>` on the target's ARN through the policy engine (the
account owner always may; a RAM user or role session needs an Allow), then run the action against
the account's `RamState` inside one transaction, so a refused action changes nothing.

Resources (ram-api.md §8 item 4): `acs:ram:*:<account>:user/<name>`, `role/<name>`, `policy/<name>`;
listings use `user/*`, `role/*`, `policy/*`. Attach/Detach also need the policy's ARN.
Model code: imports nothing from Starlette.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from helpers.localcloud.context import LocalCloud
from helpers.localcloud.ram import identities, policies
from helpers.localcloud.ram.params import Params, RamCall, no_permission
from helpers.localcloud.ram.policy import allows, request_context
from helpers.localcloud.sts.authn import Authenticator, Caller, RpcRequest, mask

logger = logging.getLogger(__name__)

API_VERSION = "2015-05-01"
ACTIONS: dict[str, Callable[[RamCall], dict[str, Any]]] = {**identities.ACTIONS, **policies.ACTIONS}
_LISTINGS = {"ListUsers": "user/*", "ListRoles": "role/*", "ListPolicies": "policy/*"}


def _target_kind(action: str) -> str:
    if action.endswith(("User", "ForUser", "AccessKey", "AccessKeys")):
        return "user"
    if action.endswith(("Role", "ForRole")):
        return "role"
    return "policy"


class RamService:
    """RAM against one LocalCloud's `accounts.ram` state. Thread-safe (the state's lock)."""

    def __init__(self, ctx: LocalCloud) -> None:
        self.ctx = ctx
        self.authn = Authenticator(ctx, version=API_VERSION, actions=ACTIONS)

    def handle(self, req: RpcRequest) -> dict[str, Any]:
        """Route, authenticate, authorize, run. Returns the response document (without RequestId)."""
        action = self.authn.action_of(req)
        caller = self.authn.authenticate(req)
        params = Params(req.params)
        self._authorize(req, caller, action, params)
        state = self.ctx.accounts.ram
        now = int(self.ctx.clock.now())
        read_only = action.startswith(("Get", "List"))
        with state.lock if read_only else state.transaction():
            call = RamCall(params, state.data, state, now, state.account_id, caller.user_name)
            result = ACTIONS[action](call)
        if not read_only:
            logger.info("RAM %s by %s", action, mask(caller.principal.access_key_id or ""))
        return result

    def _resources(self, action: str, params: Params, caller: Caller) -> list[str]:
        base = f"acs:ram:*:{self.ctx.accounts.account_id}:"
        if action in _LISTINGS:
            return [base + _LISTINGS[action]]
        kind = _target_kind(action)
        if kind == "user":
            name = params.opt("UserName")
            if name is None and action.endswith(("AccessKey", "AccessKeys")):
                name = caller.user_name or "*"
            out = [f"{base}user/{name or ''}"]
        elif kind == "role":
            out = [f"{base}role/{params.opt('RoleName') or ''}"]
        else:
            out = []
        if kind == "policy" or action.startswith(("Attach", "Detach")):
            out.append(f"{base}policy/{params.opt('PolicyName') or ''}")
        return out

    def _authorize(self, req: RpcRequest, caller: Caller, action: str, params: Params) -> None:
        principal = caller.principal
        context = request_context(source_ip=req.source_ip, now=self.ctx.clock.now(), secure=req.secure,
                                  user_agent=req.header("user-agent"), access_key_id=principal.access_key_id)
        for resource in self._resources(action, params, caller):
            if not allows(principal, action=f"ram:{action}", resource=resource, context=context):
                raise no_permission()
