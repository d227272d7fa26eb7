"""search_by_sender and search_by_timerange: pages, cursors, inclusive bounds."""

from __future__ import annotations

from fastmcp import Client

from shared_context.domain.clock import ManualClock, iso
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.services.container import Services
from tests.helpers import call, login


async def test_sender_pages_follow_the_cursor(client: Client) -> None:
    alice = await login(client, "alice", "claude")
    bob = await login(client, "bob", "claude")
    sid = (await call(client, "create_session", purpose="pages", auth_token=alice))["session_id"]
    for i in range(5):
        await call(client, "add_message", session_id=sid, content=f"a{i}", auth_token=alice)
        await call(client, "add_message", session_id=sid, content=f"b{i}", auth_token=bob)
    first = await call(
        client, "search_by_sender", session_id=sid, sender="alice", limit=3, auth_token=bob
    )
    assert [m["content"] for m in first["messages"]] == ["a0", "a1", "a2"]
    assert first["has_more"] is True
    rest = await call(
        client,
        "search_by_sender",
        session_id=sid,
        sender="alice",
        limit=3,
        cursor=first["next_cursor"],
        auth_token=bob,
    )
    assert [m["content"] for m in rest["messages"]] == ["a3", "a4"]
    assert rest["has_more"] is False
    assert rest["next_cursor"] is None


async def test_timerange_bounds_are_inclusive(
    clocked_services: Services, clock: ManualClock
) -> None:
    alice = Principal("alice", "claude", AGENT_CEILING)
    clock.set(1_900_000_000.0)
    sid = (await clocked_services.sessions.create(alice, "times", None)).session_id
    for i in range(4):
        await clocked_services.messages.add(alice, sid, f"m{i}", "public", None)
        clock.advance(60)
    start, end = str(iso(1_900_000_060.0)), str(iso(1_900_000_120.0))
    page = await clocked_services.search.by_timerange(alice, sid, start, end)
    assert [m.content for m in page.messages] == ["m1", "m2"]
    naive = await clocked_services.search.by_timerange(
        alice, sid, "2030-03-17T17:46:40", "2030-03-17T17:47:40Z", limit=1
    )
    assert [m.content for m in naive.messages] == ["m0"]
    assert naive.has_more is True
