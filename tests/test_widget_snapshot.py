"""The token console's display carries a static snapshot (text/html and text/plain) of what it shows,
for pages without a kernel or widget state; checked against a real stack, never showing a secret."""

from __future__ import annotations

from typing import Any

from helpers.widgets import TokenConsole


def test_snapshot_before_any_token(book: Any) -> None:
    console = TokenConsole(book)
    try:
        bundle = console._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle, "the live widget stays"
        assert "none yet" in bundle["text/html"] and "<table>" in bundle["text/html"]
        assert bundle["text/plain"].startswith("Token console (a static snapshot; live in JupyterLab)")
        assert "TokenConsole(children=" not in bundle["text/plain"]
    finally:
        console.close()


def test_snapshot_shows_the_token_and_what_it_can_do(book: Any) -> None:
    console = TokenConsole(book)
    try:
        console.issue_button.click()
        bundle = console._repr_mimebundle_()
        creds = book.client("alice").providers["upload"].get()
        for mime in ("text/html", "text/plain"):
            shown = bundle[mime]
            assert "STS." in shown and "oss:PutObject" in shown and "users/alice/*" in shown, shown
            for secret in (creds.access_key_id, creds.access_key_secret, creds.security_token):
                assert secret not in shown, f"a secret in the {mime} snapshot"
        console.mode.value = "custom"
        console.actions.value = ("oss:GetObject", "oss:ListObjects")
        console.issue_button.click()
        assert "(prefix users/alice/*)" in console._repr_mimebundle_()["text/plain"]
    finally:
        console.close()


def test_a_closed_console_shows_nothing(book: Any) -> None:
    console = TokenConsole(book)
    console.close()
    assert not console._repr_mimebundle_


def test_countdown_stays_expired_after_the_clock_is_moved_back(book: Any) -> None:
    """08's expiry step: the clock moves past the token's Expiration, OSS refuses, the clock is put
    back. The countdown must not show "expires in 29:…" above the refusal: it says expired, on the
    cloud's clock, until a new token is issued."""
    console = TokenConsole(book, tick=60)
    try:
        console.mode.value = "custom"
        console.actions.value = ("oss:GetObject", "oss:ListObjects")
        console.duration.value = 1800
        console.issue_button.click()
        assert console.token_state() == "valid"
        assert console.countdown.value.startswith("expires in 29:")
        book.advance_clock(31 * 60, quiet=True)
        try:
            result = console.list_files()
        finally:
            book.reset_clock()
        assert not result.ok and "SecurityTokenExpired" in "\n".join(result.lines)
        console._update_countdown()  # what the timer thread does every tick
        assert console.token_state() == "expired"
        assert console.countdown.value.startswith("expired (OSS answered SecurityTokenExpired)")
        assert "Token state" in console._repr_mimebundle_()["text/plain"]
        console.issue_button.click()
        assert console.token_state() == "valid" and console.countdown.value.startswith("expires in 29:")
    finally:
        console.close()
