"""Fixtures for multi-process tests: one PostgreSQL schema shared by two real instances.

Starting ``scs serve`` costs seconds on a busy machine, so the pair is started once per test
run (lazily) and shared; tests create their own sessions, so they do not see each other's
data. A test that kills an instance starts its own extra one instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.instances import Instance, start_instance
from tests.pgtools import PG_URL, drop_schema, new_schema_name, url_with_schema


async def _create_schema(name: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def shared_schema() -> Iterator[str]:
    name = new_schema_name()
    asyncio.run(_create_schema(name))
    yield name
    asyncio.run(drop_schema(name))


@pytest.fixture(scope="session")
def pair(
    shared_schema: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, Instance]]:
    """Instance A selects the schema by setting, B by the URL; both share the JWT secret
    generated once in the database."""
    base = tmp_path_factory.mktemp("pair")
    started: list[Instance] = []
    try:
        started.append(start_instance(base / "a", instance_env(shared_schema)))
        started.append(
            start_instance(base / "b", {"SCS_DATABASE_URL": url_with_schema(shared_schema)})
        )
        yield started[0], started[1]
    finally:
        for instance in started:
            instance.stop()


def instance_env(schema: str) -> dict[str, str]:
    return {"SCS_DATABASE_URL": PG_URL, "SCS_DATABASE_SCHEMA": schema}


@pytest.fixture
def extra_instance(shared_schema: str, tmp_path: Path) -> Iterator[Instance]:
    instance = start_instance(tmp_path / "extra", instance_env(shared_schema))
    try:
        yield instance
    finally:
        instance.stop()
