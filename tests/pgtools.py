"""PostgreSQL for tests: the URL from SCS_TEST_POSTGRES_URL and a fresh schema per use."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

PG_URL = os.environ.get("SCS_TEST_POSTGRES_URL", "")
SKIP_REASON = (
    "PostgreSQL tests need SCS_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test);"
    " .ci/run sets it"
)
requires_pg = pytest.mark.skipif(not PG_URL, reason=SKIP_REASON)

#: Parameter for fixtures that run once per backend.
BACKENDS = ["sqlite", pytest.param("postgres", marks=[requires_pg, pytest.mark.postgres])]


def new_schema_name() -> str:
    return f"scs_test_{os.getpid()}_{secrets.token_hex(4)}"


async def drop_schema(name: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A schema name no other run uses; the store creates it, this drops it afterwards."""
    name = new_schema_name()
    try:
        yield name
    finally:
        await drop_schema(name)


def url_with_schema(schema: str) -> str:
    """The test database URL selecting ``schema`` through libpq-style startup options."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
