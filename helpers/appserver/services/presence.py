"""Whether recorded uploads still exist in OSS, asked with the user's own download-scope STS
credentials (HeadObject needs `oss:GetObject`, "To query object metadata, you must have the
oss:GetObject permission", Alibaba Cloud doc 154962; that scope grants it on `users/<username>/*`).

The app server records an upload when OSS's callback is verified; the object may be deleted later
(by the owner, a lifecycle rule, another client) and the record would then lie. The check never uses
the developer's AccessKey: only the (user, "download") credentials the broker issues, whose session
policy reaches that user's folder alone. Imports no FastAPI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import oss2

from helpers.appserver.services.signing import oss_endpoint

if TYPE_CHECKING:
    from helpers.appserver.services.sts import StsBroker
    from helpers.appserver.services.users import User
    from helpers.settings import Settings

logger = logging.getLogger(__name__)

# Enough for a page of "My files"; past it, entries are reported unchecked (None), not HEADed.
MAX_CHECKS = 100
HEAD_TIMEOUT = 5


def existence(*, settings: Settings, broker: StsBroker, user: User,
              keys: Iterable[str]) -> dict[str, bool | None]:
    """key -> True (HEAD 200), False (HEAD 404: deleted) or None (not checked, or OSS answered
    something else, e.g. 403: unknown is said as unknown, never as "missing")."""
    wanted = list(dict.fromkeys(keys))
    out: dict[str, bool | None] = dict.fromkeys(wanted)
    if not wanted:
        return out
    creds = broker.get(user, "download")
    auth = oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token,
                        auth_version=oss2.AUTH_VERSION_4)
    bucket = oss2.Bucket(auth, oss_endpoint(settings), settings.bucket, region=settings.region,
                         connect_timeout=HEAD_TIMEOUT)
    for key in wanted[:MAX_CHECKS]:
        try:
            bucket.head_object(key)
            out[key] = True
        except oss2.exceptions.NotFound:
            # [unverified] that real OSS answers 404 (not 403) for a missing key to a token without
            # ListObjects; were it 403, the entry would read None ("unknown"), never a false "missing".
            out[key] = False
        except (oss2.exceptions.OssError, OSError) as exc:
            logger.warning("HeadObject %s: %s", key, getattr(exc, "code", type(exc).__name__))
    return out
