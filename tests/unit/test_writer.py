"""The group-commit writer: answered only after commit, one bad write fails only its caller,
shutdown drains the queue."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared_context.domain.errors import ErrorCode, InvalidInput, StorageError
from shared_context.storage.sqlite.store import SqliteStore
from shared_context.storage.sqlite.writer import translate


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    built = SqliteStore(tmp_path / "w.db", batch_max=16)
    await built.start()
    await built.write(lambda conn: conn.execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)"))
    yield built
    await built.close()


def insert(value: int) -> object:
    def fn(conn: sqlite3.Connection) -> int:
        if value % 5 == 0:
            conn.execute("INSERT INTO t VALUES (?)", (-value,))  # partial work, then refuse
            raise InvalidInput(f"refused {value}")
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        return value

    return fn


async def values(store: SqliteStore) -> list[int]:
    def fn(conn: sqlite3.Connection) -> list[int]:
        return [row[0] for row in conn.execute("SELECT v FROM t ORDER BY v")]

    found: list[int] = await store.read(fn)
    return found


async def test_a_failing_write_fails_only_its_caller(store: SqliteStore) -> None:
    results = await asyncio.gather(
        *(store.write(insert(v)) for v in range(1, 61)), return_exceptions=True
    )
    for value, result in zip(range(1, 61), results, strict=True):
        if value % 5 == 0:
            assert isinstance(result, InvalidInput)
        else:
            assert result == value
    # Nothing of a refused write is kept, everything else is.
    assert await values(store) == [v for v in range(1, 61) if v % 5]
    stats = store.stats()
    assert stats["write_errors"] >= 12
    assert stats["max_batch_size"] > 1  # concurrent writes were grouped


async def test_driver_errors_are_translated_for_that_caller_only(store: SqliteStore) -> None:
    ok: object
    duplicate: object
    ok, duplicate = await asyncio.gather(
        store.write(lambda conn: conn.execute("INSERT INTO t VALUES (1)").rowcount),
        store.write(lambda conn: conn.execute("INSERT INTO t VALUES (1)").rowcount),
        return_exceptions=True,
    )
    assert ok == 1
    assert isinstance(duplicate, StorageError)
    assert duplicate.code is ErrorCode.INTERNAL_ERROR
    assert await values(store) == [1]


async def test_a_batch_that_cannot_commit_fails_every_caller(store: SqliteStore) -> None:
    def sabotage(conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK")  # ends the batch's transaction under the writer's feet

    results = await asyncio.gather(
        store.write(insert(1)),
        store.write(sabotage),
        store.write(insert(2)),
        return_exceptions=True,
    )
    assert any(isinstance(r, StorageError) for r in results)
    # The writer survives and keeps serving.
    assert await store.write(insert(3)) == 3
    assert 3 in await values(store)


async def test_close_commits_everything_queued(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "drain.db", batch_max=8)
    await store.start()
    await store.write(lambda conn: conn.execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)"))
    pending = [asyncio.ensure_future(store.write(insert(v))) for v in range(1, 200) if v % 5]
    # Tasks start in creation order: every submit enqueues before close() marks the stop.
    await asyncio.ensure_future(store.close())
    assert all(task.done() and task.exception() is None for task in pending)
    with pytest.raises(StorageError, match="shutting down"):
        await store.write(insert(1))
    await store.close()  # idempotent
    reopened = SqliteStore(tmp_path / "drain.db")
    await reopened.start()
    try:
        assert len(await values(reopened)) == len(pending)
    finally:
        await reopened.close()


def test_translate_disk_full() -> None:
    assert translate(sqlite3.OperationalError("database or disk is full")).code is (
        ErrorCode.STORAGE_FULL
    )
    assert translate(sqlite3.OperationalError("disk I/O error")).code is (ErrorCode.INTERNAL_ERROR)


async def test_health_and_size(store: SqliteStore) -> None:
    await store.ping()
    assert await store.size_bytes() > 0
    await store.start()  # idempotent


async def test_read_errors_are_translated_and_health_reports_them(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.db")
    await store.start()
    try:
        with pytest.raises(StorageError, match="could not complete the read"):
            await store.read(lambda conn: conn.execute("SELECT * FROM no_such_table"))
        conn = sqlite3.connect(tmp_path / "h.db")
        with conn:
            conn.execute("DROP TABLE schema_version")
        conn.close()
        with pytest.raises(StorageError, match="database unreachable"):
            await store.ping()
    finally:
        await store.close()


async def test_a_caller_waiting_for_a_queue_slot_during_close_is_refused(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "slots.db", queue_max=1)
    await store.start()
    release = threading.Event()

    def slow(conn: sqlite3.Connection) -> str:
        release.wait(10)
        return "first"

    first = asyncio.ensure_future(store.write(slow))  # holds the only queue slot
    second = asyncio.ensure_future(store.write(lambda conn: "second"))  # waits for a slot
    closing = asyncio.ensure_future(store.close())
    asyncio.get_running_loop().call_soon(release.set)  # after all three have started
    async with asyncio.timeout(20):
        results = await asyncio.gather(first, second, closing, return_exceptions=True)
    assert results[0] == "first"
    assert isinstance(results[1], StorageError)
    assert "shutting down" in results[1].message
