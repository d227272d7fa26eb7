"""Wiring edge cases: database URLs, schema versions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from shared_context.bootstrap import build_store
from shared_context.domain.errors import InvalidInput, StorageError
from shared_context.storage.sqlite.store import SqliteStore
from tests.conftest import make_settings


@pytest.mark.parametrize("url", ["mysql://db/x", "sqlite://relative.db", "sqlite:///"])
def test_unusable_database_urls_are_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidInput):
        build_store(make_settings(tmp_path, database_url=url))


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = SqliteStore(path)
    await store.start()
    await store.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO schema_version VALUES (999, 'future', 'now')")
    conn.close()
    with pytest.raises(StorageError, match="newer than this server"):
        await SqliteStore(path).start()


async def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    for _ in range(2):
        store = SqliteStore(path)
        await store.start()
        await store.close()
    conn = sqlite3.connect(path)
    versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    conn.close()
    assert versions == sorted(set(versions))
    assert versions[0] == 1
