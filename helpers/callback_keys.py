"""Where callback-signing public keys may come from: the only URLs an app server fetches a key from.

Kept apart from `helpers.settings` so code that needs only these (the notebooks' lessons) does not
load pydantic.
"""

# Real OSS signs callbacks with the key at this host (http and https); reference §7.3.
REAL_OSS_KEY_URL_PREFIXES = ("http://gosspublic.alicdn.com/", "https://gosspublic.alicdn.com/")
# Served by the local cloud on its OSS port (design.md, "Callback").
LOCAL_KEY_PATH = "/_localcloud/callback_pub_key_v1.pem"
