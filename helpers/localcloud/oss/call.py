"""One authenticated OSS call as handlers see it, with the single authorisation entry point."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from helpers.localcloud.context import LocalCloud
from helpers.localcloud.errors import AccessDenied, NoSuchKey
from helpers.localcloud.identity import Principal
from helpers.localcloud.oss.body import Body
from helpers.localcloud.oss.request import Operation, OssRequest
from helpers.localcloud.oss.routing import resource_arn

POLICY_DENIED = "Access denied by authorizer's policy."    # reference §5.2
_ACL_DENIED = "You have no right to access this object because of bucket acl."
# What an anonymous caller may do under each ACL (real OSS: public-read allows reads,
# public-read-write also writes).
_ANON_READ = {"oss:GetObject", "oss:ListObjects"}
_ANON_WRITE = {"oss:PutObject", "oss:DeleteObject", "oss:AbortMultipartUpload", "oss:ListParts",
               "oss:ListMultipartUploads"}


@dataclass(slots=True)
class Call:
    """One call as a handler sees it: the context, the parsed request, its operation, who signed it,
    and the body still to be read."""

    ctx: LocalCloud
    req: OssRequest
    op: Operation | None
    principal: Principal
    body: Body

    async def _authorize(self, action: str, bucket: str | None, key: str | None, *, level: str) -> None:
        """Allow or raise AccessDenied: ACLs for anonymous callers, RAM policies for everyone else."""
        if self.principal.kind == "anonymous":
            await self._authorize_anonymous(action, bucket, key)
            return
        from helpers.localcloud.ram.policy import allows, request_context

        # An unprefixed listing still presents oss:Prefix as "", so `StringLike users/alice/*` refuses it.
        q = self.req.q
        context_extra = ({"oss:Prefix": q("prefix") or "", "oss:Delimiter": q("delimiter") or ""}
                         if action == "oss:ListObjects" else {})
        context = request_context(source_ip=self.req.client_ip, now=self.ctx.clock.now(),
                                  secure=self.req.scheme == "https",
                                  user_agent=self.req.headers.get("user-agent"),
                                  access_key_id=self.principal.access_key_id, extra=context_extra)
        arn = resource_arn(bucket, key, level, region=self.ctx.region,
                           account_id=self.ctx.accounts.account_id)
        if not allows(self.principal, action=action, resource=arn, context=context):
            raise AccessDenied(POLICY_DENIED)

    async def authorize_operation(self, bucket: str | None, key: str | None) -> None:
        """Authorise this call's operation (its action and resource level from the table) on a resource."""
        assert self.op is not None and self.op.action is not None, "only table operations have an action"
        await self._authorize(self.op.action, bucket, key, level=self.op.level)

    async def authorize_source(self, bucket: str, key: str) -> None:
        """Authorise reading the source object of a copy (the table's `source_action`)."""
        assert self.op is not None and self.op.source_action is not None, "not a copy operation"
        await self._authorize(self.op.source_action, bucket, key, level="object")

    async def _authorize_anonymous(self, action: str, bucket: str | None, key: str | None) -> None:
        if bucket is None:
            raise AccessDenied("Anonymous access is forbidden for this operation.")
        store = self.ctx.store
        meta = await run_in_threadpool(store.get_bucket, bucket)
        acl = meta.acl
        if key is not None and action == "oss:GetObject":
            try:
                obj = await run_in_threadpool(store.head, bucket, key)
                if obj.acl not in ("default", ""):
                    acl = obj.acl
            except NoSuchKey:
                pass
        if action in _ANON_READ and acl in ("public-read", "public-read-write"):
            return
        if action in _ANON_WRITE and acl == "public-read-write":
            return
        raise AccessDenied(_ACL_DENIED)


Handler = Callable[[Call], Awaitable[Response]]
