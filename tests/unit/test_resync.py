"""A ``resync`` event (the PostgreSQL bridge reconnected) makes waiters and subscribers
re-read: whatever happened elsewhere meanwhile is found, filtered by visibility as always."""

from __future__ import annotations

import asyncio

from shared_context.bootstrap import build_subscription_hub
from shared_context.domain.models import NewMessage, Principal, Visibility
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.events.bus import Event, EventKind
from shared_context.mcp.subscriptions import Subscriber
from shared_context.services.container import Services

ALICE = Principal("alice", "claude", AGENT_CEILING)


async def write_unannounced(services: Services, sid: str, content: str) -> int:
    """A message stored without a bus event, as a write on another instance whose
    notification was lost."""
    message, _ = await services.store.add_message(
        NewMessage(sid, "bob", "claude", content, Visibility.PUBLIC, {}, None, 0.0),
        services.audit.event("add_message", None, agent_id="bob", session_id=sid),
    )
    return message.id


async def test_resync_wakes_a_waiter_that_then_finds_the_missed_message(
    services: Services,
) -> None:
    sid = (await services.sessions.create(ALICE, "resync", None)).session_id
    waits = services.coordination.waits
    waiting = asyncio.create_task(waits.wait(ALICE, sid, after_id=0, timeout_seconds=30))
    for _ in range(500):
        if waits.waiters:
            break
        await asyncio.sleep(0.01)
    missed = await write_unannounced(services, sid, "while the bridge was down")
    services.bus.publish(Event(EventKind.RESYNC, origin="remote"))
    woke = await asyncio.wait_for(waiting, 10)
    assert woke.timed_out is False
    assert [m.id for m in woke.messages] == [missed]


async def test_resync_tells_every_subscriber_to_re_read(services: Services) -> None:
    hub = build_subscription_hub(services)
    got: list[str] = []
    hub.add("a", Subscriber(ALICE, {"session://one", "session://two"}, got.append, "2026-07-28"))
    services.bus.publish(Event(EventKind.RESYNC, origin="remote"))
    assert sorted(got) == ["session://one", "session://two"]
