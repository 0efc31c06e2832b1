"""The developer's own calls from the notebook kernel, with the app server's RAM key: AssumeRole, an
oss2 bucket on the temporary credentials it returns, and cleanup by a session policy that allows
deleting exactly the given keys (no admin key anywhere).

Each is drawn as the participant "Developer (notebook kernel)", never as the app server's. AssumeRole
uses the app server's own STS call (`helpers.sts_client`), so an `https://` STS endpoint is reached
over TLS. `Book.assume_role`, `Book.oss_bucket` and `Book.delete_objects` call these.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Protocol

from helpers.logging import mask_secret
from helpers.protocol.scopes import oss_arn
from helpers.refusals import describe_error
from helpers.trace import Recorder

# The participant of the developer's own calls from this kernel (AssumeRole with the RAM key, cleanup).
DEVELOPER = "Developer"


class Book(Protocol):
    """What these calls need of a `helpers.workbook.Book` (a Protocol: no import back into it)."""

    oss_endpoint: str
    sts_endpoint: str
    bucket: str
    region: str
    role_arn: str
    developer_key: tuple[str, str]
    recorder: Recorder

    def assume_role(self, policy: str | Mapping[str, Any] | None, *, session_name: str = ...,
                    duration: int = ...) -> dict[str, str]: ...

    def oss_bucket(self, creds: Mapping[str, str]) -> Any: ...


def assume_role(book: Book, policy: str | Mapping[str, Any] | None, *, session_name: str = "workbook",
                duration: int = 900) -> dict[str, str]:
    """AssumeRole with `book`'s developer key: the temporary credentials (the Credentials block of
    STS's answer), recorded into `book.recorder` as the developer's call. Raises `StsRefused` (STS's
    status and code) or `StsUnreachable`, recorded first; neither carries the signed request."""
    from helpers.sts_client import StsRefused, StsUnreachable
    from helpers.sts_client import assume_role as sts_assume_role

    ak, secret = book.developer_key   # checked by `Book.assume_role`, the way every caller comes
    started = time.time()
    path = f"/?Action=AssumeRole&RoleSessionName={session_name}"
    try:
        answer = sts_assume_role(endpoint=book.sts_endpoint, region=book.region, access_key_id=ak,
                                 access_key_secret=secret, role_arn=book.role_arn,
                                 session_name=session_name, duration=duration,
                                 policy=None if policy is None else
                                 policy if isinstance(policy, str) else json.dumps(policy))
    except (StsRefused, StsUnreachable) as exc:  # recorded for the diagram, then re-raised unchanged
        got = describe_error(exc)
        book.recorder.record(t=started, end=time.time(), source=DEVELOPER, target="STS", method="POST",
                             path=path, status=got.status, note=got.code or "unreachable")
        raise
    creds = {"AccessKeyId": answer.access_key_id, "AccessKeySecret": answer.access_key_secret,
             "SecurityToken": answer.security_token, "Expiration": answer.expiration}
    # Masked on the way in: the recorder never holds a key id in full.
    book.recorder.record(t=started, end=time.time(), source=DEVELOPER, target="STS", method="POST",
                         path=path, status=200, note=f"AccessKeyId {mask_secret(creds['AccessKeyId'])}")
    return creds


def oss_bucket(book: Book, creds: Mapping[str, str]) -> Any:
    """An oss2 Bucket of `book.bucket` signing (V4) with temporary credentials as `assume_role`
    returns them; its requests are recorded as the developer's."""
    import oss2

    auth = oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"],
                        auth_version=oss2.AUTH_VERSION_4)
    session = oss2.Session()
    book.recorder.install_requests(session.session, "OSS", source=DEVELOPER)
    return oss2.Bucket(auth, book.oss_endpoint, book.bucket, region=book.region, session=session)


def deletion_policy(bucket: str, keys: list[str]) -> dict[str, Any]:
    """A session policy allowing DeleteObject on exactly `keys` of `bucket` and nothing else."""
    return {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["oss:DeleteObject"],
            "Resource": [oss_arn(bucket, k) for k in sorted(set(keys))]}]}


def delete_objects(book: Book, keys: list[str]) -> None:
    """AssumeRole with `deletion_policy(keys)`, then delete them. Prints how many were deleted."""
    if not keys:
        print("nothing to delete")
        return
    bucket = book.oss_bucket(book.assume_role(deletion_policy(book.bucket, keys),
                                              session_name="workbook-cleanup"))
    for key in sorted(set(keys)):
        bucket.delete_object(key)
    print(f"deleted {len(set(keys))} objects (with a session policy allowing only their deletion)")
