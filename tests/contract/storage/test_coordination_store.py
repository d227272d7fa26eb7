"""Coordination storage: lease rows and presence behave alike on every backend, and exactly
one of many racing acquirers wins."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared_context.domain.coordination import Lease, Presence, PresenceStatus
from shared_context.domain.errors import ErrorCode, SharedContextError
from shared_context.storage.postgres.coordination import PostgresCoordinationStore
from shared_context.storage.sqlite.coordination import SqliteCoordinationStore
from tests.contract.storage.factories import NOW, audit, message, session


def coordination_of(store: Any) -> Any:
    if store.dialect == "sqlite":
        return SqliteCoordinationStore(store)
    return PostgresCoordinationStore(store)


def lease(holder: str, *, resource: str = "", at: float = NOW, ttl: float = 60) -> Lease:
    return Lease("session_x", resource, "write", holder, "claude", at, at + ttl)


async def test_lock_lifecycle(store: Any) -> None:
    coord = coordination_of(store)
    first = await coord.acquire_lock(lease("alice"), NOW, audit("lock"))
    assert first.lease == lease("alice") and first.previous is None
    with pytest.raises(SharedContextError) as held:
        await coord.acquire_lock(lease("bob", at=NOW + 1), NOW + 1, audit("lock"))
    assert held.value.code is ErrorCode.SESSION_LOCKED
    assert held.value.details["holder"] == "alice"
    again = await coord.acquire_lock(lease("alice", at=NOW + 2), NOW + 2, audit("lock"))
    assert again.lease.acquired_at == NOW  # re-locking one's own live lease renews it
    renewed = await coord.renew_lock("session_x", "", "alice", NOW + 500, NOW + 3, audit("renew"))
    assert renewed.expires_at == NOW + 500
    with pytest.raises(SharedContextError) as not_held:
        await coord.renew_lock("session_x", "", "bob", NOW + 500, NOW + 3, audit("renew"))
    assert not_held.value.code is ErrorCode.LOCK_NOT_HELD
    assert await coord.get_lock("session_x", "", NOW + 4) == renewed
    assert await coord.list_locks("session_x", NOW + 4, 10) == [renewed]
    assert await coord.count_live_locks(NOW + 4) == 1
    with pytest.raises(SharedContextError):
        await coord.release_lock("session_x", "", "bob", NOW + 5, audit("unlock"))
    released = await coord.release_lock("session_x", "", "alice", NOW + 5, audit("unlock"))
    assert released.holder == "alice"
    assert await coord.get_lock("session_x", "", NOW + 5) is None


async def test_expired_leases_are_taken_over_forced_and_purged(store: Any) -> None:
    coord = coordination_of(store)
    await coord.acquire_lock(lease("alice", resource="a.py", ttl=10), NOW, audit("lock"))
    await coord.acquire_lock(lease("alice", resource="b.py", ttl=10), NOW, audit("lock"))
    taken = await coord.acquire_lock(
        lease("bob", resource="a.py", at=NOW + 20), NOW + 20, audit("l")
    )
    assert taken.previous is not None and taken.previous.holder == "alice"
    assert taken.lease.holder == "bob" and taken.lease.acquired_at == NOW + 20
    forced = await coord.release_lock("session_x", "a.py", None, NOW + 21, audit("unlock"))
    assert forced.holder == "bob"
    assert await coord.purge_expired_locks(NOW + 21) == 1  # b.py expired at NOW + 10
    assert await coord.count_live_locks(NOW + 21) == 0


async def test_racing_acquirers_have_exactly_one_winner(store: Any) -> None:
    coord = coordination_of(store)
    results = await asyncio.gather(
        *(coord.acquire_lock(lease(f"agent{i}"), NOW, audit("lock")) for i in range(10)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(
        isinstance(r, SharedContextError) and r.code is ErrorCode.SESSION_LOCKED
        for r in results
        if isinstance(r, BaseException)
    )


async def test_session_write_lock_refuses_other_agents_messages(store: Any) -> None:
    created = await store.create_session(session("alice"), audit("create_session"))
    sid = created.session_id
    coord = coordination_of(store)
    await coord.acquire_lock(
        Lease(sid, "", "write", "alice", "claude", NOW, NOW + 60), NOW, audit("lock")
    )
    with pytest.raises(SharedContextError) as refused:
        await store.add_message(message(sid, "x", sender="bob", at=NOW + 1), audit("add"))
    assert refused.value.code is ErrorCode.SESSION_LOCKED
    assert refused.value.details["holder"] == "alice"
    mine, _ = await store.add_message(message(sid, "ok", at=NOW + 1), audit("add"))
    assert mine.content == "ok"
    later, _ = await store.add_message(message(sid, "y", sender="bob", at=NOW + 61), audit("a"))
    assert later.sender == "bob"


async def test_presence_upsert_touch_list_and_count(store: Any) -> None:
    coord = coordination_of(store)
    await coord.upsert_presence(
        Presence("alice", "claude", PresenceStatus.BUSY, "session_x", NOW, {"task": "t"}),
        audit("presence"),
    )
    await coord.touch_presence([("alice", "claude", NOW - 5), ("bob", "gemini", NOW + 2)])
    await coord.touch_presence([])
    listed = await coord.list_presence(seen_since=NOW - 1, session_id=None, limit=10)
    assert [(p.agent_id, p.last_seen) for p in listed] == [("bob", NOW + 2), ("alice", NOW)]
    assert listed[1].status is PresenceStatus.BUSY and listed[1].metadata == {"task": "t"}
    in_session = await coord.list_presence(seen_since=0, session_id="session_x", limit=10)
    assert [p.agent_id for p in in_session] == ["alice"]
    got = await coord.get_presence(["bob", "nobody"])
    assert [p.agent_id for p in got] == ["bob"]
    assert await coord.get_presence([]) == []
    await coord.upsert_presence(
        Presence("bob", "gemini", PresenceStatus.OFFLINE, None, NOW + 3), audit("presence")
    )
    assert await coord.count_presence(seen_since=NOW - 1) == 1
