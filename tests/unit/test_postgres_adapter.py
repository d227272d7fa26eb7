"""PostgreSQL adapter pieces that need no server: placeholders, URLs, error translation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from shared_context.bootstrap import build_store
from shared_context.cli.migrate import default_source
from shared_context.domain.errors import ErrorCode, InvalidInput, StorageError
from shared_context.storage.postgres.engine import ConnectArgs, is_postgres_url, translate
from shared_context.storage.postgres.sql import pg
from shared_context.storage.postgres.store import PostgresStore, affected
from tests.conftest import make_settings


def test_placeholders_are_numbered_outside_quotes() -> None:
    assert pg("SELECT ? , '?', \"a?\" FROM t WHERE x = ? AND y IN (?, ?)") == (
        "SELECT $1 , '?', \"a?\" FROM t WHERE x = $2 AND y IN ($3, $4)"
    )
    assert pg("SELECT 'it''s ?' , ?") == "SELECT 'it''s ?' , $1"
    with pytest.raises(ValueError, match="unterminated"):
        pg("SELECT 'open ?")


def test_urls_and_schema_selection() -> None:
    assert is_postgres_url("postgresql://u@h/db")
    assert is_postgres_url("postgres://u@h/db")
    assert not is_postgres_url("sqlite:///x.db")
    args = ConnectArgs.from_url("postgresql://u@h/db", 'we"ird')
    assert args.server_settings["search_path"] == '"we""ird", public'
    assert "search_path" not in ConnectArgs.from_url("postgresql://u@h/db").server_settings
    with pytest.raises(ValueError, match="postgresql"):
        ConnectArgs.from_url("sqlite:///x.db")


def test_driver_errors_become_domain_errors() -> None:
    assert translate(asyncpg.DiskFullError("full")).code is ErrorCode.STORAGE_FULL
    assert translate(asyncpg.UniqueViolationError("dup")).code is ErrorCode.INTERNAL_ERROR
    unreachable = translate(OSError("connection refused"))
    assert "unreachable" in unreachable.message
    mine = InvalidInput("x")
    assert translate(mine) is mine
    assert affected("INSERT 0 3") == 3
    assert affected("UPDATE 0") == 0


def test_build_store_selects_the_backend_by_url(tmp_path: Path) -> None:
    pg_store = build_store(
        make_settings(tmp_path, database_url="postgresql://u@h/db", database_schema="s1")
    )
    assert isinstance(pg_store, PostgresStore)
    assert pg_store.connect_args.schema == "s1"
    with pytest.raises(InvalidInput, match="postgresql"):
        build_store(make_settings(tmp_path, database_url="mysql://x/y"))


async def test_an_unreachable_or_unstarted_database_is_a_storage_error() -> None:
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/none", command_timeout=2)
    with pytest.raises(StorageError, match="not started"):
        await store.ping()
    with pytest.raises(StorageError) as caught:
        await asyncio.wait_for(store.start(), 30)
    assert caught.value.code is ErrorCode.INTERNAL_ERROR
    await store.close()


def test_migrate_defaults_to_the_configured_sqlite_file(tmp_path: Path) -> None:
    assert default_source(tmp_path) == tmp_path / "shared_context.db"
