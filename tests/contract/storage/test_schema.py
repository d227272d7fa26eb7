"""Migrations: recorded, re-runnable, and a newer database is refused with a clear message."""

from __future__ import annotations

from typing import Any

import pytest

from shared_context.domain.errors import SharedContextError
from shared_context.storage.migrations import load
from tests.contract.storage.rawsql import execute, scalar


async def reopen(store: Any) -> Any:
    if store.dialect == "sqlite":
        from shared_context.storage.sqlite.store import SqliteStore

        return SqliteStore(store.path)
    from shared_context.storage.postgres.store import PostgresStore

    args = store.connect_args
    return PostgresStore(args.dsn, schema=args.schema)


async def test_schema_version_is_recorded_and_restart_is_a_no_op(store: Any) -> None:
    migrations = load(store.dialect if store.dialect == "sqlite" else "postgres")
    latest = migrations[-1].version
    assert await scalar(store, "SELECT MAX(version) FROM schema_version") == latest
    await store.start()
    again = await reopen(store)
    await again.start()
    try:
        # numbers are assigned per feature area, so there may be gaps: one row per migration
        assert await scalar(again, "SELECT COUNT(*) FROM schema_version") == len(migrations)
    finally:
        await again.close()
        await again.close()


async def test_a_newer_database_is_refused(store: Any) -> None:
    await execute(
        store,
        "INSERT INTO schema_version (version, name) VALUES (999, 'future')"
        if store.dialect != "sqlite"
        else "INSERT INTO schema_version VALUES (999, 'future', 'now')",
    )
    newer = await reopen(store)
    with pytest.raises(SharedContextError, match="newer than this server"):
        await newer.start()


def test_both_dialects_have_the_same_migration_numbers_and_names() -> None:
    sqlite = [(m.version, m.name) for m in load("sqlite")]
    postgres = [(m.version, m.name) for m in load("postgres")]
    assert sqlite == postgres
