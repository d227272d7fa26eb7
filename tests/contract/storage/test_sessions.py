"""Sessions and audit rows behave alike on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from shared_context.domain.errors import ErrorCode, SharedContextError
from shared_context.domain.ids import new_session_id
from tests.contract.storage.factories import NOW, audit, session
from tests.contract.storage.rawsql import count


async def test_create_and_get_session_round_trips(store: Any) -> None:
    draft = session(metadata={"a": [1, 2], "b": {"c": "é"}})
    created = await store.create_session(draft, audit("create_session"))
    assert created.seq > 0
    assert created.session_id == draft.session_id
    found = await store.get_session(draft.session_id)
    assert found == created
    assert await store.get_session(new_session_id()) is None
    assert await count(store, "audit_log") == 1


async def test_list_sessions_filters_and_pages_newest_first(store: Any) -> None:
    made = []
    for i in range(5):
        made.append(
            await store.create_session(
                session("alice" if i % 2 == 0 else "bob", created_at=NOW + i), audit("c")
            )
        )
    seqs = [s.seq for s in made]
    assert seqs == sorted(seqs)
    everything = await store.list_sessions(
        active_only=False, created_by=None, limit=10, after_seq=None
    )
    assert [s.session_id for s in everything] == [s.session_id for s in reversed(made)]
    page = await store.list_sessions(active_only=False, created_by=None, limit=2, after_seq=None)
    rest = await store.list_sessions(
        active_only=False, created_by=None, limit=10, after_seq=page[-1].seq
    )
    assert [s.session_id for s in page + rest] == [s.session_id for s in everything]
    by_bob = await store.list_sessions(
        active_only=False, created_by="bob", limit=10, after_seq=None
    )
    assert {s.created_by for s in by_bob} == {"bob"}
    assert len(by_bob) == 2

    await store.close_session(made[0].session_id, NOW + 10, audit("close_session"))
    active = await store.list_sessions(active_only=True, created_by=None, limit=10, after_seq=None)
    assert made[0].session_id not in {s.session_id for s in active}
    closed = await store.get_session(made[0].session_id)
    assert closed is not None
    assert closed.is_active is False


async def test_closing_a_missing_session_fails_without_an_audit_row(store: Any) -> None:
    with pytest.raises(SharedContextError) as caught:
        await store.close_session(new_session_id(), NOW, audit("close_session"))
    assert caught.value.code is ErrorCode.SESSION_NOT_FOUND
    assert await count(store, "audit_log") == 0


async def test_duplicate_session_id_is_refused_and_writes_nothing(store: Any) -> None:
    draft = session()
    await store.create_session(draft, audit("create_session"))
    with pytest.raises(SharedContextError) as caught:
        await store.create_session(draft, audit("create_session"))
    assert caught.value.code is ErrorCode.INTERNAL_ERROR
    assert await count(store, "sessions") == 1
    assert await count(store, "audit_log") == 1


async def test_record_audit_stores_one_row(store: Any) -> None:
    await store.record_audit(audit("authenticate", "alice"))
    await store.record_audit(audit("authenticate", None))
    assert await count(store, "audit_log") == 2


async def test_health_size_and_stats(store: Any) -> None:
    await store.ping()
    await store.create_session(session(), audit("c"))
    assert await store.size_bytes() > 0
    stats = store.stats()
    assert stats["writes"] >= 1
    assert stats["reads"] >= 1
    assert set(stats) >= {"queries", "write_batches", "slow_queries", "avg_read_ms"}


async def test_totals_count_rows_and_recent_audited_writes(store: Any) -> None:
    sid = (await store.create_session(session(), audit("create_session"))).session_id
    await store.close_session(sid, NOW + 1, audit("close_session"))
    await store.record_audit(audit("authenticate"))
    totals = await store.totals(NOW - 1)
    assert totals == {
        "sessions": 1,
        "messages": 0,
        "audit_events": 3,
        "writes_last_24h": 2,
        "memory_entries": 0,
    }
    assert (await store.totals(NOW + 10))["writes_last_24h"] == 0


async def test_maintain_purges_expired_revocations_only(store: Any) -> None:
    await store.revoke_token("old", NOW - 10)
    await store.revoke_token("live", NOW + 10)
    assert await store.maintain(NOW) == {"revoked_tokens_purged": 1}
    assert await count(store, "revoked_tokens") == 1
    assert store.stats()["writer_queue_depth"] == 0


async def test_ping_fails_once_closed(store: Any) -> None:
    await store.ping()
    await store.close()
    with pytest.raises(SharedContextError):
        await store.ping()
    await store.start()
