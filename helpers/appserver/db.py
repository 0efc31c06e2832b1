"""The app server's own SQLite database: one `uploads` table of verified OSS callbacks.

Plain `sqlite3`, no ORM, no migrations: `init_schema(path)` creates the table if missing,
`connect(path)` opens a connection per request (WAL, so readers never block the writer).
Imports nothing from FastAPI.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

DDL = """
CREATE TABLE IF NOT EXISTS uploads (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    TEXT    NOT NULL,
    bucket      TEXT    NOT NULL,
    object_key  TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    mime_type   TEXT    NOT NULL,
    etag        TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    created_at  REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_user ON uploads (username, id);
"""


@dataclass(frozen=True, slots=True)
class Upload:
    id: int
    username: str
    bucket: str
    object_key: str
    size: int
    mime_type: str
    etag: str
    request_id: str
    created_at: float


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def init_schema(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(DDL)
        conn.commit()
    finally:
        conn.close()


def insert_upload(conn: sqlite3.Connection, *, username: str, bucket: str, object_key: str, size: int,
                  mime_type: str, etag: str, request_id: str, created_at: float | None = None) -> Upload:
    created = time.time() if created_at is None else created_at
    with conn:
        cur = conn.execute(
            "INSERT INTO uploads (username, bucket, object_key, size, mime_type, etag, request_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (username, bucket, object_key, size, mime_type, etag, request_id, created))
    return Upload(int(cur.lastrowid or 0), username, bucket, object_key, size, mime_type, etag, request_id,
                  created)


def uploads_of(conn: sqlite3.Connection, username: str, *, limit: int = 200) -> list[Upload]:
    rows = conn.execute("SELECT * FROM uploads WHERE username = ? ORDER BY id DESC LIMIT ?",
                        (username, limit)).fetchall()
    return [Upload(**dict(r)) for r in rows]
