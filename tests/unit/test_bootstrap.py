"""Wiring edge cases: database URLs, schema versions."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from shared_context.bootstrap import build_store, open_services
from shared_context.domain.errors import InvalidInput, StorageError
from shared_context.storage.sqlite.store import SqliteStore
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY


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


async def test_a_new_database_is_private_to_its_owner(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        async with open_services(make_settings(tmp_path / "data")) as services:
            await services.auth.authenticate("a", "claude", AGENT_KEY, None)
            db = Path(str(services.store.path))  # type: ignore[attr-defined]
            for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        os.umask(previous)
