"""Two in-process server instances on one PostgreSQL schema: wiring of store, migrations and
the event bridge (the multi-process version is in tests/e2e)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import pytest

from shared_context.bootstrap import open_services
from shared_context.domain.errors import SharedContextError
from shared_context.domain.models import Principal
from shared_context.domain.permissions import ALL_PERMISSIONS
from shared_context.events.bus import Event, EventKind
from shared_context.services.container import Services
from shared_context.storage.migrations import load
from shared_context.storage.postgres.store import PostgresStore
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY
from tests.pgtools import PG_URL, fresh_schema, requires_pg

pytestmark = [requires_pg, pytest.mark.postgres]

ROOT = Principal("root", "ops", ALL_PERMISSIONS)


async def test_instances_starting_together_migrate_exactly_once() -> None:
    async with fresh_schema() as schema:
        stores = [PostgresStore(PG_URL, schema=schema, pool_max=2) for _ in range(4)]
        await asyncio.gather(*(s.start() for s in stores))
        try:
            conn = await asyncpg.connect(PG_URL)
            try:
                versions = await conn.fetch(
                    f'SELECT version FROM "{schema}".schema_version ORDER BY version'
                )
            finally:
                await conn.close()
            assert [v[0] for v in versions] == [m.version for m in load("postgres")]
        finally:
            await asyncio.gather(*(s.close() for s in stores))


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[Services, Services]]:
    async with fresh_schema() as schema, AsyncExitStack() as stack:
        built = [
            await stack.enter_async_context(
                open_services(
                    make_settings(tmp_path / name, database_url=PG_URL, database_schema=schema)
                )
            )
            for name in ("a", "b")
        ]
        yield built[0], built[1]


async def test_a_write_on_one_instance_reaches_the_other_bus(
    two: tuple[Services, Services],
) -> None:
    a, b = two
    seen: asyncio.Queue[Event] = asyncio.Queue()
    b.bus.subscribe(seen.put_nowait)
    sid = (await a.sessions.create(ROOT, "bridged", None)).session_id
    posted = await a.messages.add(ROOT, sid, "hello from A")

    async def wait_for_message() -> Event:
        while True:
            event = await seen.get()
            if event.kind is EventKind.MESSAGE_ADDED:
                return event

    event = await asyncio.wait_for(wait_for_message(), 10)
    assert (event.session_id, event.message_id, event.origin) == (
        sid,
        posted.message_id,
        "remote",
    )
    # Completed from the shared database before local consumers see it.
    assert event.data["message"].content == "hello from A"
    got = await b.messages.get(ROOT, sid)
    assert [m.content for m in got.messages] == ["hello from A"]
    metrics = await b.metrics.snapshot()
    bridge = metrics.model_dump()["event_bridge"]  # a section other components report
    assert bridge["received"] >= 2
    assert bridge["connected"] is True
    assert metrics.database["backend"] == "postgresql"
    assert metrics.totals["messages"] == 1


async def test_a_revocation_on_one_instance_applies_at_once_on_the_other(
    tmp_path: Path,
) -> None:
    async with fresh_schema() as schema, AsyncExitStack() as stack:
        a, b = [
            await stack.enter_async_context(
                open_services(
                    make_settings(
                        tmp_path / name,
                        database_url=PG_URL,
                        database_schema=schema,
                        revocation_recheck_seconds=60,
                    )
                )
            )
            for name in ("a", "b")
        ]
        seen: asyncio.Queue[Event] = asyncio.Queue()
        b.bus.subscribe(seen.put_nowait)
        token = (await a.auth.authenticate("alice", "claude", AGENT_KEY, ["read", "write"])).token
        principal = await b.auth.tokens.verify(token)  # remembered on B for 60 s
        await a.auth.refresh(principal)

        async def revoked_arrived() -> None:
            while (await seen.get()).kind is not EventKind.AUTH_REVOKED:
                pass

        await asyncio.wait_for(revoked_arrived(), 10)
        with pytest.raises(SharedContextError) as refused:
            await b.auth.tokens.verify(token)
        assert refused.value.code.value == "TOKEN_INVALID"
