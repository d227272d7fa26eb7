"""Memory compare-and-set and quotas stay exact under concurrent writers, on every backend."""

from __future__ import annotations

import asyncio
from typing import Any

from shared_context.domain.errors import SharedContextError
from shared_context.domain.memory import MemoryWrite
from shared_context.storage.postgres.memory import PostgresMemoryStore
from shared_context.storage.sqlite.memory import SqliteMemoryStore
from tests.contract.storage.factories import NOW, audit


def memory_of(store: Any) -> Any:
    return SqliteMemoryStore(store) if store.dialect == "sqlite" else PostgresMemoryStore(store)


def write(key: str, **changes: Any) -> MemoryWrite:
    fields: dict[str, Any] = {
        "agent_id": "alice",
        "session_id": None,
        "key": key,
        "value_json": "1",
        "size_bytes": 1,
        "metadata": {},
        "now": NOW,
        "expires_at": None,
        "max_entries": 100,
        "max_bytes": 10_000,
    }
    fields.update(changes)
    return MemoryWrite(**fields)


async def outcomes(calls: list[Any]) -> list[str]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    out = []
    for result in results:
        if isinstance(result, SharedContextError):
            out.append(result.code.value)
        elif isinstance(result, BaseException):
            raise result
        else:
            out.append("ok")
    return sorted(out)


async def test_racing_creates_with_if_version_zero_let_exactly_one_win(store: Any) -> None:
    memory = memory_of(store)
    got = await outcomes(
        [memory.put(write("k", if_version=0, value_json=str(i)), audit("set")) for i in range(8)]
    )
    assert got == ["VERSION_CONFLICT"] * 7 + ["ok"]


async def test_racing_writers_cannot_exceed_the_entry_quota(store: Any) -> None:
    memory = memory_of(store)
    got = await outcomes(
        [memory.put(write(f"k{i}", max_entries=3), audit("set")) for i in range(8)]
    )
    assert got.count("ok") == 3
    assert got.count("QUOTA_EXCEEDED") == 5
    assert await memory.count(NOW) == 3
