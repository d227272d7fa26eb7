"""The ``store`` fixture: every contract test runs once per storage backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared_context.storage.postgres.store import PostgresStore
from shared_context.storage.sqlite.store import SqliteStore
from tests.pgtools import BACKENDS, PG_URL, fresh_schema


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / "contract.db")
        await sqlite.start()
        try:
            yield sqlite
        finally:
            await sqlite.close()
        return
    async with fresh_schema() as schema:
        postgres = PostgresStore(PG_URL, schema=schema, pool_max=5)
        await postgres.start()
        try:
            yield postgres
        finally:
            await postgres.close()
