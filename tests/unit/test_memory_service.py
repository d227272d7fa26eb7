"""MemoryService against real SQLite: scopes, versions, compare-and-set, expiry, quotas."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared_context.bootstrap import open_services
from shared_context.domain.clock import ManualClock
from shared_context.domain.errors import (
    Conflict,
    ErrorCode,
    InvalidInput,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)
from shared_context.events.bus import Event, EventKind
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.memory_support import audit_rows, memory_rows, principal

ALICE = principal("alice")
BOB = principal("bob")


async def test_set_get_replace_and_delete_global(clocked_services: Services) -> None:
    memory = clocked_services.memory
    first = await memory.set(ALICE, "plan", {"step": 1})
    assert first.model_dump() == {
        "success": True,
        "key": "plan",
        "scope": "global",
        "session_id": None,
        "version": 1,
        "expires_at": None,
        "created": True,
        "size_bytes": len('{"step":1}'),
    }
    second = await memory.set(ALICE, "plan", [1, "two", None], metadata={"by": "test"})
    assert (second.version, second.created) == (2, False)
    got = await memory.get(ALICE, "plan")
    assert got.value == [1, "two", None]
    assert got.version == 2
    assert got.metadata == {"by": "test"}
    assert got.created_at is not None and got.updated_at is not None
    assert got.created_at <= got.updated_at
    assert set(got.model_dump()) >= {
        "success",
        "key",
        "value",
        "scope",
        "session_id",
        "version",
        "expires_at",
        "created_at",
        "updated_at",
    }
    deleted = await memory.delete(ALICE, "plan")
    assert deleted.deleted is True
    assert deleted.version == 2
    with pytest.raises(NotFound) as missing:
        await memory.get(ALICE, "plan")
    assert missing.value.code is ErrorCode.MEMORY_NOT_FOUND
    with pytest.raises(NotFound):
        await memory.delete(ALICE, "plan")


@pytest.mark.parametrize("value", [None, True, 0, -1.5, "", "text", [], {}, {"a": {"b": [1]}}])
async def test_any_json_value_round_trips(clocked_services: Services, value: object) -> None:
    await clocked_services.memory.set(ALICE, "v", value)
    assert (await clocked_services.memory.get(ALICE, "v")).value == value


async def test_session_scope_is_separate_from_global(clocked_services: Services) -> None:
    memory = clocked_services.memory
    sid = (await clocked_services.sessions.create(ALICE, "work", None)).session_id
    await memory.set(ALICE, "k", "global value")
    scoped = await memory.set(ALICE, "k", "session value", session_id=sid)
    assert (scoped.scope, scoped.session_id, scoped.version) == ("session", sid, 1)
    assert (await memory.get(ALICE, "k")).value == "global value"
    got = await memory.get(ALICE, "k", session_id=sid)
    assert (got.value, got.scope, got.session_id) == ("session value", "session", sid)
    await memory.delete(ALICE, "k", session_id=sid)
    assert (await memory.get(ALICE, "k")).value == "global value"


@pytest.mark.parametrize("sid", ["session_0123456789abcdef", "nonsense", "session_XYZ"])
async def test_unknown_session_scope_is_session_not_found(
    clocked_services: Services, sid: str
) -> None:
    memory = clocked_services.memory
    for attempt in (
        memory.set(ALICE, "k", 1, session_id=sid),
        memory.get(ALICE, "k", session_id=sid),
        memory.delete(ALICE, "k", session_id=sid),
        memory.list(ALICE, session_id=sid),
    ):
        with pytest.raises(NotFound) as err:
            await attempt
        assert err.value.code is ErrorCode.SESSION_NOT_FOUND
    assert await memory_rows(clocked_services) == []


async def test_overwrite_false_refuses_a_live_key(clocked_services: Services) -> None:
    memory = clocked_services.memory
    assert (await memory.set(ALICE, "once", 1, overwrite=False)).version == 1
    with pytest.raises(Conflict) as err:
        await memory.set(ALICE, "once", 2, overwrite=False)
    assert err.value.code is ErrorCode.KEY_EXISTS
    assert err.value.details == {"current_version": 1}
    assert (await memory.get(ALICE, "once")).value == 1


async def test_compare_and_set(clocked_services: Services) -> None:
    memory = clocked_services.memory
    with pytest.raises(Conflict) as missing:
        await memory.set(ALICE, "cas", 1, if_version=1)
    assert missing.value.code is ErrorCode.VERSION_CONFLICT
    assert missing.value.details == {"current_version": None}
    assert (await memory.set(ALICE, "cas", "a", if_version=0)).version == 1
    with pytest.raises(Conflict):
        await memory.set(ALICE, "cas", "b", if_version=0)
    assert (await memory.set(ALICE, "cas", "b", if_version=1)).version == 2
    with pytest.raises(Conflict) as stale:
        await memory.set(ALICE, "cas", "c", if_version=1)
    assert stale.value.details == {"current_version": 2}
    assert (await memory.get(ALICE, "cas")).value == "b"


async def test_refused_writes_are_audited_as_failures_without_values(
    clocked_services: Services,
) -> None:
    memory = clocked_services.memory
    await memory.set(ALICE, "k", "secret-value-1")
    with pytest.raises(Conflict):
        await memory.set(ALICE, "k", "secret-value-2", overwrite=False)
    rows = [r for r in await audit_rows(clocked_services) if r[1] == "set_memory"]
    assert [(r[0], r[3]) for r in rows] == [("alice", "success"), ("alice", "failure")]
    assert json.loads(rows[1][4])["code"] == "KEY_EXISTS"
    assert all("secret-value" not in r[4] for r in rows)


async def test_expiry_is_exact_before_any_sweep(
    clocked_services: Services, clock: ManualClock
) -> None:
    memory = clocked_services.memory
    start = clock.now()
    result = await memory.set(ALICE, "short", "x", expires_in=1)
    assert result.expires_at is not None
    clock.set(start + 0.9)
    assert (await memory.get(ALICE, "short")).value == "x"
    assert [e.key for e in (await memory.list(ALICE)).entries] == ["short"]
    assert [e.key for e in (await memory.snapshot(ALICE)).entries] == ["short"]
    clock.set(start + 1.0)
    with pytest.raises(NotFound):
        await memory.get(ALICE, "short")
    assert (await memory.list(ALICE, session_id="all")).entries == []
    assert (await memory.snapshot(ALICE)).entries == []
    with pytest.raises(NotFound):
        await memory.delete(ALICE, "short")
    assert len(await memory_rows(clocked_services)) == 1  # still there: not swept yet
    assert await memory.sweep_expired() == 1
    assert await memory_rows(clocked_services) == []


async def test_an_expired_key_can_be_set_again_from_version_one(
    clocked_services: Services, clock: ManualClock
) -> None:
    memory = clocked_services.memory
    await memory.set(ALICE, "k", 1, expires_in=5)
    await memory.set(ALICE, "k", 2, expires_in=5)
    clock.advance(6)
    again = await memory.set(ALICE, "k", 3, overwrite=False)
    assert (again.version, again.created, again.expires_at) == (1, True, None)
    assert len(await memory_rows(clocked_services)) == 1


async def test_replacing_without_expires_in_clears_the_expiry(
    clocked_services: Services, clock: ManualClock
) -> None:
    memory = clocked_services.memory
    await memory.set(ALICE, "k", 1, expires_in=5)
    await memory.set(ALICE, "k", 2)
    clock.advance(10)
    assert (await memory.get(ALICE, "k")).value == 2


async def test_sweep_deletes_in_bounded_batches(
    clocked_services: Services, clock: ManualClock
) -> None:
    memory = clocked_services.memory
    for i in range(25):
        await memory.set(ALICE, f"e{i}", i, expires_in=1)
    await memory.set(ALICE, "keep", "x", expires_in=100)
    await memory.set(ALICE, "forever", "x")
    clock.advance(1)
    assert await memory.sweep_expired(batch=10) == 25
    assert sorted(r[2] for r in await memory_rows(clocked_services)) == ["forever", "keep"]
    assert await memory.live_count() == 2


async def test_list_prefix_scopes_and_pages(clocked_services: Services) -> None:
    memory = clocked_services.memory
    sid = (await clocked_services.sessions.create(ALICE, "work", None)).session_id
    for i in range(7):
        await memory.set(ALICE, f"task/{i}", i)
    await memory.set(ALICE, "Task/upper", 0)
    await memory.set(ALICE, "task_", 0)
    await memory.set(ALICE, "task/s", 0, session_id=sid)
    keys: list[str] = []
    cursor = None
    for _ in range(10):
        page = await memory.list(ALICE, prefix="task/", limit=3, cursor=cursor)
        keys += [e.key for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            assert page.has_more is False
            break
    assert keys == [f"task/{i}" for i in range(7)]
    scoped = await memory.list(ALICE, session_id=sid)
    assert [(e.key, e.scope, e.session_id) for e in scoped.entries] == [("task/s", "session", sid)]
    everything = await memory.list(ALICE, session_id="all", limit=1000)
    assert len(everything.entries) == 10
    entry = everything.entries[0]
    shown = set(entry.model_dump())
    assert shown >= {"key", "scope", "session_id", "version", "expires_at", "size_bytes"}
    wild = await memory.list(ALICE, session_id="all", prefix="task%")
    assert wild.entries == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"cursor": "bogus"}, "cursor"),
        ({"prefix": "has space"}, "prefix"),
    ],
)
async def test_list_bad_input(
    clocked_services: Services, args: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput, match=field):
        await clocked_services.memory.list(ALICE, **args)  # type: ignore[arg-type]


async def test_bad_inputs_store_nothing(clocked_services: Services) -> None:
    memory = clocked_services.memory
    deep: object = 1
    for _ in range(1000):
        deep = [deep]
    attempts: list[dict[str, object]] = [
        {"key": "", "value": 1},
        {"key": "k" * 256, "value": 1},
        {"key": "white space", "value": 1},
        {"key": "nul\x00", "value": 1},
        {"key": "k", "value": "x" * (1024 * 1024)},
        {"key": "k", "value": deep},
        {"key": "k", "value": float("nan")},
        {"key": "k", "value": 1, "expires_in": 0},
        {"key": "k", "value": 1, "expires_in": -1},
        {"key": "k", "value": 1, "expires_in": 2**63},
        {"key": "k", "value": 1, "expires_in": float("nan")},
        {"key": "k", "value": 1, "expires_in": "abc"},
        {"key": "k", "value": 1, "metadata": "not an object"},
        {"key": "k", "value": 1, "overwrite": "yes"},
        {"key": "k", "value": 1, "if_version": -3},
    ]
    for args in attempts:
        key, value = args.pop("key"), args.pop("value")
        with pytest.raises(InvalidInput):
            await memory.set(ALICE, key, value, **args)  # type: ignore[arg-type]
    assert await memory_rows(clocked_services) == []


async def test_read_only_token_cannot_write(clocked_services: Services) -> None:
    reader = principal("alice", read_only=True)
    with pytest.raises(PermissionDenied):
        await clocked_services.memory.set(reader, "k", 1)
    with pytest.raises(PermissionDenied):
        await clocked_services.memory.delete(reader, "k")
    assert (await clocked_services.memory.list(reader)).entries == []


async def test_changes_are_published_after_commit_without_values(
    clocked_services: Services,
) -> None:
    seen: list[Event] = []
    clocked_services.bus.subscribe(seen.append)
    await clocked_services.memory.set(ALICE, "k", "secret")
    await clocked_services.memory.delete(ALICE, "k")
    changes = [e for e in seen if e.kind is EventKind.MEMORY_CHANGED]
    assert [(e.agent_id, e.data["action"], e.data["version"]) for e in changes] == [
        ("alice", "set", 1),
        ("alice", "delete", 1),
    ]
    assert all("secret" not in json.dumps(e.data) for e in changes)


@pytest.fixture
async def small(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Services]:
    settings = make_settings(
        tmp_path / "small",
        memory_max_entries_per_agent=3,
        memory_max_bytes_per_agent=1024,
        memory_max_value_bytes=600,
    )
    async with open_services(settings, clock=clock) as app:
        yield app


async def test_entry_quota(small: Services) -> None:
    memory = small.memory
    for key in ("a", "b", "c"):
        await memory.set(ALICE, key, 1)
    with pytest.raises(LimitExceeded) as err:
        await memory.set(ALICE, "d", 1)
    assert err.value.code is ErrorCode.QUOTA_EXCEEDED
    assert (await memory.set(ALICE, "c", 2)).version == 2  # replacing is not a new entry
    await memory.set(BOB, "d", 1)  # quotas are per agent
    assert sorted(r[2] for r in await memory_rows(small) if r[0] == "alice") == ["a", "b", "c"]
    await memory.delete(ALICE, "a")
    await memory.set(ALICE, "d", 1)


async def test_byte_quota(small: Services, clock: ManualClock) -> None:
    memory = small.memory
    await memory.set(ALICE, "a", "x" * 498)  # 500 bytes serialised
    await memory.set(ALICE, "b", "x" * 498)
    with pytest.raises(LimitExceeded) as err:
        await memory.set(ALICE, "c", "x" * 98)
    assert err.value.code is ErrorCode.QUOTA_EXCEEDED
    with pytest.raises(LimitExceeded):
        await memory.set(ALICE, "b", "x" * 598)  # growing an entry past the quota
    await memory.set(ALICE, "b", "short")  # shrinking is always allowed
    await memory.set(ALICE, "c", "x" * 98)
    assert (await memory.get(ALICE, "b")).value == "short"
    with pytest.raises(InvalidInput, match="600 allowed"):
        await memory.set(ALICE, "big", "x" * 600)


async def test_expired_entries_do_not_count_against_quota(
    small: Services, clock: ManualClock
) -> None:
    memory = small.memory
    for key in ("a", "b", "c"):
        await memory.set(ALICE, key, 1, expires_in=1)
    clock.advance(1)
    await memory.set(ALICE, "d", 1)
    assert (await memory.list(ALICE)).count == 1


async def test_closed_session_keeps_and_accepts_memory(clocked_services: Services) -> None:
    sid = (await clocked_services.sessions.create(ALICE, "work", None)).session_id
    await clocked_services.memory.set(ALICE, "k", 1, session_id=sid)
    await clocked_services.sessions.close(ALICE, sid)
    assert (await clocked_services.memory.set(ALICE, "k", 2, session_id=sid)).version == 2
    assert (await clocked_services.memory.get(ALICE, "k", session_id=sid)).value == 2
