"""GET /api/uploads?check=true: the app server's record of an upload says whether OSS still has the
object, asked with the user's own download-scope STS credentials (real app server, real local cloud)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import oss2

Mobile = Callable[..., Any]


def _entry(client: Any, key: str, *, check: bool) -> dict[str, Any]:
    return next(u for u in client.list_uploads(check=check) if u["key"] == key)


def test_a_deleted_object_is_reported_missing(mobile: Mobile, unique: Callable[[str], str],
                                              workbook_bucket: oss2.Bucket) -> None:
    alice = mobile("alice")
    up = alice.upload_form(unique("presence") + ".txt", b"here for now", "text/plain", callback=True)
    assert _entry(alice, up.key, check=False)["exists"] is None       # not asked: not claimed
    assert _entry(alice, up.key, check=True)["exists"] is True
    workbook_bucket.delete_object(up.key)                              # the owner deletes it behind the app
    assert _entry(alice, up.key, check=True)["exists"] is False
    assert _entry(alice, up.key, check=False)["exists"] is None


def test_the_check_is_made_with_the_users_download_token(mobile: Mobile, unique: Callable[[str], str],
                                                         appserver: Any) -> None:
    """The app server's trace of alice shows an AssumeRole for her download scope (session policy on
    users/alice/*), never the developer's key: HeadObject is signed with that token."""
    alice = mobile("alice")
    up = alice.upload_form(unique("presence") + ".txt", b"checked", "text/plain", callback=True)
    assert _entry(alice, up.key, check=True)["exists"] is True
    _, events = alice.api.trace(0)
    sessions = [e.get("path", "") for e in events]
    assert any("RoleSessionName=alice-download" in p for p in sessions), sessions
