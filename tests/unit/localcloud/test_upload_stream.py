"""stream_into (oss/handlers/upload.py): batches written in order while the next one arrives, and the
temp file removed on every failure, including one raised while a write is still in flight."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from helpers.localcloud.errors import EntityTooLarge, InvalidArgument
from helpers.localcloud.oss.body import ClientGone
from helpers.localcloud.oss.handlers.upload import WRITE_BATCH, stream_into
from helpers.localcloud.store import ObjectStore
from helpers.localcloud.store.crc64 import crc64

PIECE = 64 * 1024
B = "upload-stream"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ObjectStore]:
    s = ObjectStore(tmp_path / "data")
    s.create_bucket(B, owner_id="o", region="cn-hangzhou")
    yield s
    s.close()


async def _chunks(data: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for off in range(0, len(data), PIECE):
        if fail_after is not None and off >= fail_after:
            raise ClientGone()
        await asyncio.sleep(0)
        yield data[off:off + PIECE]


def test_stream_into_many_batches_writes_every_byte_in_order(store: ObjectStore) -> None:
    data = os.urandom(5 * WRITE_BATCH + 12345)
    pending = store.begin_write(B)
    asyncio.run(stream_into(pending, _chunks(data)))
    assert pending.size == len(data)
    assert pending.md5_digest == hashlib.md5(data).digest()
    assert pending.crc64 == crc64(data)
    meta = store.commit_object(pending, key="k")
    _, reader = store.open_read(B, "k")
    with reader:
        assert reader.read_all() == data
    assert meta.size == len(data)


def test_stream_into_too_large_mid_stream_aborts_and_removes_temp_file(store: ObjectStore) -> None:
    data = os.urandom(4 * WRITE_BATCH)
    pending = store.begin_write(B)
    with pytest.raises(EntityTooLarge):
        asyncio.run(stream_into(pending, _chunks(data), max_size=3 * WRITE_BATCH + 1))
    assert pending.closed
    assert not pending.path.exists()


def test_stream_into_client_gone_with_write_in_flight_removes_temp_file(store: ObjectStore) -> None:
    data = os.urandom(4 * WRITE_BATCH)
    pending = store.begin_write(B)
    with pytest.raises(ClientGone):
        asyncio.run(stream_into(pending, _chunks(data, fail_after=2 * WRITE_BATCH + PIECE)))
    assert not pending.path.exists()


def test_stream_into_wrong_sha256_aborts(store: ObjectStore) -> None:
    data = os.urandom(2 * WRITE_BATCH + 1)
    pending = store.begin_write(B)
    with pytest.raises(InvalidArgument):
        asyncio.run(stream_into(pending, _chunks(data), sha256_hex="0" * 64))
    assert not pending.path.exists()
