"""The LISTEN/NOTIFY bridge between instances' event buses, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.events.pg_notify import PgNotifyBridge, channel_for, decode, encode
from shared_context.storage.postgres.engine import ConnectArgs
from tests.pgtools import PG_URL, fresh_schema, requires_pg

pytestmark = [requires_pg, pytest.mark.postgres]

Pair = tuple[PgNotifyBridge, "asyncio.Queue[Event]"]


def recorder(bus: EventBus) -> asyncio.Queue[Event]:
    seen: asyncio.Queue[Event] = asyncio.Queue()
    bus.subscribe(seen.put_nowait)
    return seen


async def next_event(
    seen: asyncio.Queue[Event], want: Callable[[Event], bool], timeout: float = 10.0
) -> Event:
    async def loop() -> Event:
        while True:
            event = await seen.get()
            if want(event):
                return event

    return await asyncio.wait_for(loop(), timeout)


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    async with fresh_schema() as name:
        conn = await asyncpg.connect(PG_URL)
        try:
            await conn.execute(f'CREATE SCHEMA "{name}"')
        finally:
            await conn.close()
        yield name


@pytest.fixture
async def make_bridge(schema: str) -> AsyncIterator[Callable[..., Any]]:
    made: list[PgNotifyBridge] = []

    async def make(target_schema: str = schema, **kw: Any) -> Pair:
        bus = EventBus()
        seen = recorder(bus)
        bridge = PgNotifyBridge(bus, ConnectArgs.from_url(PG_URL, target_schema).connect, **kw)
        made.append(bridge)
        await bridge.start()
        return bridge, seen

    yield make
    for bridge in made:
        await bridge.stop()


def added(session_id: str = "session_0123456789abcdef", message_id: int = 7) -> Event:
    return Event(
        EventKind.MESSAGE_ADDED,
        session_id=session_id,
        agent_id="alice",
        message_id=message_id,
        data={"message": "secret content"},
    )


async def test_an_event_published_on_a_reaches_b_as_remote_ids_only(make_bridge: Any) -> None:
    a, seen_a = await make_bridge()
    b, seen_b = await make_bridge()
    a._bus.publish(added())
    got = await next_event(seen_b, lambda e: e.kind is EventKind.MESSAGE_ADDED)
    assert got.origin == "remote"
    assert (got.session_id, got.agent_id, got.message_id) == (
        "session_0123456789abcdef",
        "alice",
        7,
    )
    assert got.data == {}
    local = await next_event(seen_a, lambda e: True)
    assert local.origin == "local"
    # A's own notification comes back to A's connection but is skipped: no remote echo.
    b._bus.publish(added(message_id=8))
    echo = await next_event(seen_a, lambda e: e.message_id == 8)
    assert echo.origin == "remote"
    assert seen_a.empty()
    assert a.stats()["sent"] == 1
    assert a.stats()["received"] == 1


async def test_the_payload_carries_ids_and_never_content(schema: str, make_bridge: Any) -> None:
    a, _ = await make_bridge()
    raw = await asyncpg.connect(PG_URL)
    payloads: asyncio.Queue[str] = asyncio.Queue()
    try:
        await raw.add_listener(channel_for(schema), lambda *args: payloads.put_nowait(args[3]))
        a._bus.publish(added())
        body = json.loads(await asyncio.wait_for(payloads.get(), 10))
    finally:
        await raw.close()
    assert set(body) == {"i", "k", "s", "m", "a"}
    assert "secret content" not in json.dumps(body)


async def test_other_schemas_do_not_hear_each_other(make_bridge: Any) -> None:
    async with fresh_schema() as other:
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f'CREATE SCHEMA "{other}"')
        await conn.close()
        a, _ = await make_bridge()
        b, seen_b = await make_bridge()
        c, seen_c = await make_bridge(other)
        assert a.channel == b.channel != c.channel
        a._bus.publish(added())
        await next_event(seen_b, lambda e: e.message_id == 7)
        c._bus.publish(added(message_id=9))
        await next_event(seen_c, lambda e: e.message_id == 9)
        assert seen_c.empty()


async def test_after_a_dropped_connection_it_reconnects_resyncs_and_delivers(
    make_bridge: Any,
) -> None:
    a, _ = await make_bridge()
    b, seen_b = await make_bridge()
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", b.backend_pid)
        await next_event(seen_b, lambda e: e.kind is EventKind.RESYNC)
        await asyncio.wait_for(b.connected.wait(), 10)
        assert b.stats()["resyncs"] == 1
        # The sender's connection drops too; what it queues meanwhile is sent after reconnect.
        await admin.execute("SELECT pg_terminate_backend($1)", a.backend_pid)
        a._bus.publish(added(message_id=11))
    finally:
        await admin.close()
    got = await next_event(seen_b, lambda e: e.kind is EventKind.MESSAGE_ADDED)
    assert got.message_id == 11
    assert a.stats()["connects"] == 2


async def test_malformed_notifications_are_ignored(schema: str, make_bridge: Any) -> None:
    _, seen_b = await make_bridge()
    a, _ = await make_bridge()
    raw = await asyncpg.connect(PG_URL)
    try:
        for junk in ("not json", '{"k": "nope", "i": "x"}', "[]"):
            await raw.execute("SELECT pg_notify($1, $2)", channel_for(schema), junk)
    finally:
        await raw.close()
    a._bus.publish(added(message_id=12))
    got = await next_event(seen_b, lambda e: True)
    assert got.message_id == 12


async def test_resync_events_are_not_forwarded_and_a_full_queue_drops_oldest() -> None:
    bus = EventBus()
    attempts = 0

    async def refuse() -> Any:
        nonlocal attempts
        attempts += 1
        raise OSError("database down")

    bridge = PgNotifyBridge(bus, refuse, queue_max=2, backoff_initial=0.01, backoff_max=0.02)
    await bridge.start(timeout=0.2)
    assert not bridge.is_connected
    bus.publish(Event(EventKind.RESYNC))
    for i in range(5):
        bus.publish(added(message_id=i))
    await bridge.stop()
    assert attempts >= 2
    assert bridge.stats()["pending"] == 2
    assert bridge.stats()["dropped"] == 3


def test_encode_decode_round_trip() -> None:
    event = Event(EventKind.LOCK_CHANGED, session_id="s", agent_id=None, message_id=None)
    sender, back = decode(encode("me", event)) or ("", event)
    assert sender == "me"
    assert (back.kind, back.session_id, back.agent_id, back.origin) == (
        EventKind.LOCK_CHANGED,
        "s",
        None,
        "remote",
    )
    assert decode('{"i": "x", "k": "message_added", "m": "NaN?"}') is None


async def test_a_resolve_hook_completes_events_in_order_and_failures_pass_through(
    make_bridge: Any,
) -> None:
    calls: list[int | None] = []

    async def resolve(event: Event) -> Event:
        calls.append(event.message_id)
        if event.message_id == 2:
            raise OSError("database hiccup")
        return Event(
            event.kind,
            session_id=event.session_id,
            message_id=event.message_id,
            data={**event.data, "resolved": True},
            origin=event.origin,
        )

    a, _ = await make_bridge()
    _, seen_b = await make_bridge(resolve=resolve)
    for i in (1, 2, 3):
        a._bus.publish(added(message_id=i))
    a._bus.publish(
        Event(
            EventKind.VISIBILITY_CHANGED,
            session_id="s",
            message_id=4,
            data={"old_visibility": "public", "message": "secret"},
        )
    )
    got = [await next_event(seen_b, lambda e: True) for _ in range(4)]
    assert [e.message_id for e in got] == [1, 2, 3, 4]
    assert [e.data.get("resolved", False) for e in got] == [True, False, True, True]
    assert got[3].data["old_visibility"] == "public"
    assert "message" not in got[3].data
    assert calls == [1, 2, 3, 4]
