"""helpers.protocol.callback_keys: the allow-list and the local cloud's key URL."""

from __future__ import annotations

from helpers.protocol import callback_keys as ck


def test_local_key_url() -> None:
    assert ck.local_key_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000/_localcloud/callback_pub_key_v1.pem"
    assert ck.local_key_url("http://127.0.0.1:9000/") == "http://127.0.0.1:9000/_localcloud/callback_pub_key_v1.pem"


def test_allowed_key_urls_adds_the_local_key_only_when_local() -> None:
    assert ck.allowed_key_urls("http://127.0.0.1:9", local=False) == ck.REAL_OSS_KEY_URL_PREFIXES
    assert ck.allowed_key_urls(None, local=True) == ck.REAL_OSS_KEY_URL_PREFIXES
    local = ck.allowed_key_urls("http://127.0.0.1:9", local=True)
    assert local == (*ck.REAL_OSS_KEY_URL_PREFIXES, "http://127.0.0.1:9/_localcloud/callback_pub_key_v1.pem")
    assert ck.allowed_key_urls("http://x", local=False, prefixes=("https://k.example/",)) == ("https://k.example/",)


def test_local_key_is_exact_real_keys_are_prefixes() -> None:
    allowed = ck.allowed_key_urls("http://127.0.0.1:9", local=True)
    assert ck.key_url_allowed("http://127.0.0.1:9/_localcloud/callback_pub_key_v1.pem", allowed)
    assert not ck.key_url_allowed("http://127.0.0.1:9/_localcloud/callback_pub_key_v1.pem/x", allowed)
    assert ck.key_url_allowed("https://gosspublic.alicdn.com/callback_pub_key_v1.pem", allowed)
    look_alike = "https://gosspublic.alicdn.com.evil.example/callback_pub_key_v1.pem"
    assert not ck.key_url_allowed(look_alike, allowed)
