"""Presence: register, list, status change, last-seen touches batched in memory, drop-out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastmcp import Client, FastMCP

from shared_context.bootstrap import open_services
from shared_context.domain.clock import ManualClock
from shared_context.domain.errors import SharedContextError
from shared_context.domain.models import Principal
from shared_context.domain.permissions import Permission
from shared_context.events.bus import Event, EventKind
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY, call, fail, login


@pytest.fixture
def clocked_server(clocked_services: Services) -> FastMCP:
    return build_mcp(clocked_services)


async def test_register_list_change_and_drop_out(
    clocked_services: Services, clocked_server: FastMCP, clock: ManualClock
) -> None:
    events: list[Event] = []
    clocked_services.bus.subscribe(events.append)
    async with Client(clocked_server) as client:
        alice = await login(client, "alice", "claude")
        bob = await login(client, "bob", "gemini")
        sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
        reg = await call(
            client,
            "register_agent_presence",
            status="busy",
            session_id=sid,
            metadata={"task": "review"},
            auth_token=alice,
        )
        assert reg["status"] == "busy" and reg["session_id"] == sid
        assert [e.kind for e in events if e.kind is EventKind.PRESENCE_CHANGED]

        listed = await call(client, "get_active_agents", auth_token=bob)
        by_id = {a["agent_id"]: a for a in listed["agents"]}
        assert by_id["alice"]["status"] == "busy"
        assert by_id["alice"]["metadata"] == {"task": "review"}
        assert by_id["bob"]["status"] == "active"  # bob was only touched by his calls
        assert by_id["bob"]["agent_type"] == "gemini"

        in_session = await call(client, "get_active_agents", session_id=sid, auth_token=bob)
        assert [a["agent_id"] for a in in_session["agents"]] == ["alice"]

        await call(client, "register_agent_presence", status="idle", auth_token=alice)
        listed = await call(client, "get_active_agents", auth_token=bob)
        assert {a["agent_id"]: a["status"] for a in listed["agents"]}["alice"] == "idle"

        # Alice goes silent; bob keeps calling. After the window alice drops out.
        clock.advance(200)
        still = await call(client, "get_active_agents", auth_token=bob)
        assert "alice" in {a["agent_id"] for a in still["agents"]}
        clock.advance(101)
        later = await call(client, "get_active_agents", auth_token=bob)
        assert [a["agent_id"] for a in later["agents"]] == ["bob"]
        wider = await call(client, "get_active_agents", within_seconds=3600, auth_token=bob)
        assert {a["agent_id"] for a in wider["agents"]} == {"alice", "bob"}

        # Any authenticated call brings alice back.
        await call(client, "get_session", session_id=sid, auth_token=alice)
        back = await call(client, "get_active_agents", within_seconds=5, auth_token=bob)
        assert {a["agent_id"] for a in back["agents"]} == {"alice", "bob"}

        await call(client, "register_agent_presence", status="offline", auth_token=alice)
        gone = await call(client, "get_active_agents", auth_token=bob)
        assert "alice" not in {a["agent_id"] for a in gone["agents"]}

        bad = await fail(client, "get_active_agents", within_seconds=0, auth_token=bob)
        assert bad["code"] == "INVALID_INPUT"
        bad = await fail(client, "get_active_agents", within_seconds=86401, auth_token=bob)
        assert bad["code"] == "INVALID_INPUT"
        bad = await fail(client, "register_agent_presence", status="away", auth_token=bob)
        assert bad["code"] == "INVALID_INPUT"
        missing = await fail(
            client, "get_active_agents", session_id="session_0000000000000000", auth_token=bob
        )
        assert missing["code"] == "SESSION_NOT_FOUND"


async def test_touches_are_batched_and_reads_are_exact(
    clocked_services: Services, clock: ManualClock
) -> None:
    presence = clocked_services.coordination.presence
    await presence.flush()
    flushes = presence.flushes
    tokens = []
    for i in range(20):
        body = await clocked_services.auth.authenticate(
            f"agent-{i}", "claude", AGENT_KEY, ["read", "write"]
        )
        tokens.append(body.token)
    for _ in range(5):
        for token in tokens:
            await clocked_services.auth.resolve(token)
    # 100 authenticated calls, no flush yet: nothing written, but the read is exact.
    assert presence.flushes == flushes
    seen = await presence.seen_since(clock.now() - 1, None)
    assert len(seen) == 20
    assert await presence.count_active() == 20
    assert await presence.flush() == 20
    assert await presence.flush() == 0
    assert presence.flushes == flushes + 1
    assert len(await presence.seen_since(clock.now() - 1, None)) == 20
    assert await presence.count_active() == 20
    snapshot = await clocked_services.metrics.snapshot()
    assert snapshot.coordination["active_agents"] == 20
    assert snapshot.coordination["live_locks"] == 0
    assert snapshot.coordination["presence_flushes"] >= 1


async def test_background_flush_writes_touches(tmp_path: Path) -> None:
    fast = make_settings(tmp_path / "data", presence_flush_seconds=0.05)
    async with open_services(fast) as app:
        body = await app.auth.authenticate("flushy", "claude", AGENT_KEY, ["read"])
        await app.auth.resolve(body.token)
        presence = app.coordination.presence
        start = presence.flushes
        for _ in range(200):
            if presence.flushes > start:
                break
            await asyncio.sleep(0.01)
        assert presence.flushes > start
        stored = await presence._store.get_presence(["flushy"])
        assert [p.agent_id for p in stored] == ["flushy"]


async def test_register_needs_write(services: Services) -> None:
    reader = Principal("reader", "claude", frozenset({Permission.READ}))
    with pytest.raises(SharedContextError) as info:
        await services.coordination.presence.register(reader, "active")
    assert info.value.code.value == "PERMISSION_DENIED"


async def test_failed_flush_keeps_touches_for_the_next_one(
    clocked_services: Services, clock: ManualClock
) -> None:
    presence = clocked_services.coordination.presence
    store = clocked_services.store
    await presence.flush()
    presence.touch(Principal("keeper", "claude", frozenset({Permission.READ})))
    await store.write(  # type: ignore[attr-defined]
        lambda conn: conn.execute("ALTER TABLE agent_presence RENAME TO agent_presence_away")
    )
    with pytest.raises(SharedContextError):
        await presence.flush()
    await store.write(  # type: ignore[attr-defined]
        lambda conn: conn.execute("ALTER TABLE agent_presence_away RENAME TO agent_presence")
    )
    assert await presence.flush() == 1
    assert [p.agent_id for p in await presence.seen_since(clock.now() - 1, None)] == ["keeper"]


async def test_many_pending_touches_flush_early(clocked_services: Services) -> None:
    presence = clocked_services.coordination.presence
    await presence.flush()
    start = presence.flushes
    for i in range(10_000):
        presence.touch(Principal(f"bulk-{i}", "script", frozenset({Permission.READ})))
    for _ in range(500):
        if presence.flushes > start:
            break
        await asyncio.sleep(0.01)
    assert presence.flushes > start
    assert await presence.count_active() == 10_000
