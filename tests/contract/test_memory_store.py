"""Storage contract for MemoryStore and AuditLogStore: what any backend must do. Parametrised
by backend: SQLite always, PostgreSQL when SCS_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared_context.domain.audit import AuditQuery
from shared_context.domain.errors import Conflict, ErrorCode, LimitExceeded
from shared_context.domain.memory import MemoryWrite
from shared_context.domain.models import AuditEvent
from shared_context.storage.audit import AuditLogStore
from shared_context.storage.memory import MemoryStore
from shared_context.storage.postgres.audit import PostgresAuditLog
from shared_context.storage.postgres.memory import PostgresMemoryStore
from shared_context.storage.postgres.store import PostgresStore
from shared_context.storage.sqlite.audit import SqliteAuditLog
from shared_context.storage.sqlite.memory import SqliteMemoryStore
from shared_context.storage.sqlite.store import SqliteStore
from tests.pgtools import BACKENDS, PG_URL, fresh_schema

NOW = 1_800_000_000.0


@dataclass
class Backend:
    memory: MemoryStore
    audit: AuditLogStore
    store: SqliteStore | PostgresStore


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        store = SqliteStore(tmp_path / "contract.db")
        await store.start()
        try:
            yield Backend(SqliteMemoryStore(store), SqliteAuditLog(store), store)
        finally:
            await store.close()
        return
    async with fresh_schema() as schema:
        pg_store = PostgresStore(PG_URL, schema=schema, pool_max=5)
        await pg_store.start()
        try:
            yield Backend(PostgresMemoryStore(pg_store), PostgresAuditLog(pg_store), pg_store)
        finally:
            await pg_store.close()


def write(key: str, value: str = "1", **changes: object) -> MemoryWrite:
    fields: dict[str, object] = {
        "agent_id": "alice",
        "session_id": None,
        "key": key,
        "value_json": value,
        "size_bytes": len(value.encode()),
        "metadata": {},
        "now": NOW,
        "expires_at": None,
        "max_entries": 100,
        "max_bytes": 10_000,
    }
    fields.update(changes)
    return MemoryWrite(**fields)  # type: ignore[arg-type]


def event(kind: str = "set_memory", agent: str | None = "alice", ts: float = NOW) -> AuditEvent:
    return AuditEvent(event_type=kind, agent_id=agent, outcome="success", timestamp=ts)


async def test_put_versions_and_scopes(backend: Backend) -> None:
    first, created = await backend.memory.put(write("k"), event())
    assert (first.version, created) == (1, True)
    second, created = await backend.memory.put(write("k", '"two"', now=NOW + 1), event())
    assert (second.version, created, second.created_at, second.updated_at) == (
        2,
        False,
        NOW,
        NOW + 1,
    )
    scoped, created = await backend.memory.put(write("k", session_id="session_x"), event())
    assert (scoped.version, created, scoped.session_id) == (1, True, "session_x")
    got = await backend.memory.get("alice", "", "k", NOW + 1)
    assert got is not None and got.value == "two"
    assert await backend.memory.get("bob", "", "k", NOW) is None


async def test_preconditions_and_quota_store_nothing(backend: Backend) -> None:
    await backend.memory.put(write("k"), event())
    for bad, code in (
        (write("k", overwrite=False), ErrorCode.KEY_EXISTS),
        (write("k", if_version=5), ErrorCode.VERSION_CONFLICT),
        (write("new", if_version=1), ErrorCode.VERSION_CONFLICT),
    ):
        with pytest.raises(Conflict) as err:
            await backend.memory.put(bad, event())
        assert err.value.code is code
    with pytest.raises(LimitExceeded):
        await backend.memory.put(write("other", max_entries=1), event())
    with pytest.raises(LimitExceeded):
        await backend.memory.put(write("other", "x" * 50, max_bytes=10), event())
    listed = await backend.memory.list("alice", None, prefix=None, after_id=None, limit=10, now=NOW)
    assert [(e.key, e.version) for e in listed] == [("k", 1)]
    logged = await backend.audit.query(AuditQuery(newest_first=False))
    assert len(logged) == 1  # refused writes roll back their audit row too


async def test_expiry_list_delete_and_sweep(backend: Backend) -> None:
    await backend.memory.put(write("a", expires_at=NOW + 1), event())
    await backend.memory.put(write("b"), event())
    assert await backend.memory.get("alice", "", "a", NOW + 0.999) is not None
    assert await backend.memory.get("alice", "", "a", NOW + 1) is None
    live = await backend.memory.list("alice", "", prefix=None, after_id=None, limit=10, now=NOW + 1)
    assert [e.key for e in live] == ["b"]
    assert live[0].value_json == ""  # listing does not carry values
    assert await backend.memory.delete("alice", "", "a", NOW + 1, event("delete_memory")) is None
    assert await backend.memory.count(NOW + 1) == 1
    assert await backend.memory.sweep(NOW + 1, 10) == 1
    deleted = await backend.memory.delete("alice", "", "b", NOW + 1, event("delete_memory"))
    assert deleted is not None and deleted.key == "b"
    assert await backend.memory.count(NOW) == 0


async def test_audit_query_summary_and_purge(backend: Backend) -> None:
    for i, (kind, agent) in enumerate(
        [("a", "alice"), ("b", "bob"), ("a", "alice"), ("c", None), ("a", "bob")]
    ):
        await backend.store.record_audit(event(kind, agent, NOW + i))
    newest = await backend.audit.query(AuditQuery(limit=2))
    assert [e.event_type for e in newest] == ["a", "c"]
    older = await backend.audit.query(AuditQuery(limit=10, cursor_id=newest[-1].id))
    assert [e.event_type for e in older] == ["a", "b", "a"]
    alice = await backend.audit.query(AuditQuery(agent_id="alice", newest_first=False))
    assert [e.timestamp for e in alice] == [NOW, NOW + 2]
    since = await backend.audit.query(AuditQuery(since=NOW + 3, event_type="a"))
    assert [e.agent_id for e in since] == ["bob"]
    summary = await backend.audit.summary(None, NOW + 1)
    assert (summary.total, summary.by_event_type, summary.by_agent) == (
        4,
        {"a": 2, "b": 1, "c": 1},
        {"bob": 2, "": 1, "alice": 1},
    )
    assert (await backend.audit.summary("alice", NOW)).by_outcome == {"success": 2}
    assert await backend.audit.purge_before(NOW + 2, 1) == 1
    assert await backend.audit.purge_before(NOW + 2, 10) == 1
    assert len(await backend.audit.query(AuditQuery())) == 3
