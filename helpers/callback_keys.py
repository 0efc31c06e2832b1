"""Where callback-signing public keys may come from: defined in `helpers.protocol.callback_keys`;
these names stay importable from here for the notebooks' lessons (which load no pydantic)."""

from helpers.protocol.callback_keys import LOCAL_KEY_PATH, REAL_OSS_KEY_URL_PREFIXES

__all__ = ["LOCAL_KEY_PATH", "REAL_OSS_KEY_URL_PREFIXES"]
