"""Backend-neutral raw SQL for assertions the Store protocol has no method for."""

from __future__ import annotations

import sqlite3
from typing import Any

from shared_context.storage.postgres.sql import pg


async def scalar(store: Any, sql: str, *params: Any) -> Any:
    """First column of the first row of a ``?``-placeholder query, on either backend."""
    if store.dialect == "sqlite":

        def fn(conn: sqlite3.Connection) -> Any:
            return conn.execute(sql, params).fetchone()[0]

        return await store.read(fn)
    async with store.connection() as conn:
        return await conn.fetchval(pg(sql), *params)


async def execute(store: Any, sql: str, *params: Any) -> None:
    if store.dialect == "sqlite":

        def fn(conn: sqlite3.Connection) -> None:
            conn.execute(sql, params)

        await store.write(fn)
        return
    async with store.transaction() as conn:
        await conn.execute(pg(sql), *params)


async def count(store: Any, table: str) -> int:
    return int(await scalar(store, f"SELECT COUNT(*) FROM {table}"))
