"""The alibabacloud_oss_v2 adapter of `CachingCredentialsProvider`, in a module of its own so that
only code that uses the v2 SDK pays for importing it (about 0.17 s, in every notebook otherwise)."""

from __future__ import annotations

from datetime import UTC, datetime

import alibabacloud_oss_v2 as oss_v2

from helpers.client.credentials import CachingCredentialsProvider


class OssV2CredentialsProvider(oss_v2.credentials.CredentialsProvider):
    """alibabacloud_oss_v2's provider interface. `expiration` is given on the local clock, because
    the SDK's `Credentials.is_expired()` compares it with the local time."""

    def __init__(self, provider: CachingCredentialsProvider) -> None:
        self.provider = provider

    def get_credentials(self) -> oss_v2.credentials.Credentials:
        c = self.provider.get()
        local_exp = self.provider.local_expiration()
        expiration = datetime.fromtimestamp(local_exp if local_exp is not None else c.expiration, UTC)
        return oss_v2.credentials.Credentials(c.access_key_id, c.access_key_secret, c.security_token,
                                              expiration=expiration)
