"""Sessions and messages behaviour through the in-process client (SPEC §4, §5, §14)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastmcp import Client

from shared_context.domain.clock import ManualClock
from shared_context.events.bus import Event, EventKind
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from tests.helpers import call, fail, login

MESSAGE_FIELDS = {
    "id",
    "session_id",
    "sender",
    "sender_type",
    "content",
    "visibility",
    "metadata",
    "parent_message_id",
    "timestamp",
}
SESSION_FIELDS = {
    "session_id",
    "purpose",
    "metadata",
    "created_by",
    "created_at",
    "is_active",
    "message_count",
}


async def test_result_shapes(client: Client) -> None:
    token = await login(client, "alice")
    created = await call(
        client, "create_session", purpose="shapes", metadata={"k": 1}, auth_token=token
    )
    assert re.fullmatch(r"session_[a-f0-9]{16}", created["session_id"])
    assert created["created_by"] == "alice"
    assert datetime.fromisoformat(created["created_at"]).tzinfo is not None
    sid = created["session_id"]
    added = await call(client, "add_message", session_id=sid, content="hi", auth_token=token)
    assert {"success", "message_id", "timestamp"} <= set(added)
    page = await call(client, "get_messages", session_id=sid, auth_token=token)
    assert {"success", "messages", "has_more", "next_cursor"} <= set(page)
    assert set(page["messages"][0]) == MESSAGE_FIELDS
    session = await call(client, "get_session", session_id=sid, auth_token=token)
    assert set(session["session"]) >= SESSION_FIELDS
    assert session["metadata"] == {"k": 1}
    listed = await call(client, "list_sessions", auth_token=token)
    assert set(listed["sessions"][0]) >= SESSION_FIELDS
    assert {"success", "sessions", "next_cursor"} <= set(listed)


async def test_cursor_offset_and_since_id(client: Client) -> None:
    token = await login(client, "alice")
    sid = (await call(client, "create_session", purpose="p", auth_token=token))["session_id"]
    ids = [
        (await call(client, "add_message", session_id=sid, content=f"m{i}", auth_token=token))[
            "message_id"
        ]
        for i in range(7)
    ]
    assert ids == sorted(ids)
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        args = {"session_id": sid, "limit": 3, "auth_token": token}
        if cursor:
            args["cursor"] = cursor
        page = await call(client, "get_messages", **args)
        seen.extend(m["id"] for m in page["messages"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            break
    assert seen == ids
    skipped = await call(client, "get_messages", session_id=sid, offset=5, auth_token=token)
    assert [m["id"] for m in skipped["messages"]] == ids[5:]
    after = await call(client, "get_messages", session_id=sid, since_id=ids[3], auth_token=token)
    assert [m["id"] for m in after["messages"]] == ids[4:]


async def test_advanced_filters(clocked_services: Services, clock: ManualClock) -> None:
    clock.set(1_800_000_000.25)
    async with Client(build_mcp(clocked_services)) as client:
        alice = await login(client, "alice")
        bob = await login(client, "bob", "gemini")
        sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
        start = datetime.fromtimestamp(clock.now(), UTC)
        first = (await call(client, "add_message", session_id=sid, content="a1", auth_token=alice))[
            "message_id"
        ]
        clock.advance(60)
        await call(
            client,
            "add_message",
            session_id=sid,
            content="b1",
            parent_message_id=first,
            auth_token=bob,
        )
        clock.advance(60)
        await call(
            client,
            "add_message",
            session_id=sid,
            content="a2",
            visibility="private",
            auth_token=alice,
        )

        async def contents(**filters: object) -> list[str]:
            body = await call(
                client, "get_messages_advanced", session_id=sid, auth_token=alice, **filters
            )
            return [m["content"] for m in body["messages"]]

        assert await contents(sender="bob") == ["b1"]
        assert await contents(visibility="private") == ["a2"]
        assert await contents(parent_message_id=first) == ["b1"]
        minute = (start + timedelta(seconds=60)).isoformat()
        assert await contents(since=minute) == ["b1", "a2"]
        assert await contents(until=minute) == ["a1", "b1"]
        zulu = start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert await contents(since=zulu, until=minute) == ["a1", "b1"]
        naive = (start + timedelta(seconds=120)).replace(tzinfo=None).isoformat()
        assert await contents(since=naive) == ["a2"]


async def test_idempotency_and_parents(client: Client) -> None:
    alice = await login(client, "alice")
    bob = await login(client, "bob")
    sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
    other = (await call(client, "create_session", purpose="q", auth_token=alice))["session_id"]
    first = await call(
        client, "add_message", session_id=sid, content="x", idempotency_key="k1", auth_token=alice
    )
    again = await call(
        client, "add_message", session_id=sid, content="y", idempotency_key="k1", auth_token=alice
    )
    assert again["message_id"] == first["message_id"] and again["duplicate"] is True
    assert first["duplicate"] is False
    # The key is per agent: bob's k1 is a different message.
    bobs = await call(
        client, "add_message", session_id=sid, content="z", idempotency_key="k1", auth_token=bob
    )
    assert bobs["message_id"] != first["message_id"]
    cross = await fail(
        client,
        "add_message",
        session_id=other,
        content="x",
        idempotency_key="k1",
        auth_token=alice,
    )
    assert cross["code"] == "INVALID_INPUT"
    foreign_parent = await fail(
        client,
        "add_message",
        session_id=other,
        content="reply",
        parent_message_id=first["message_id"],
        auth_token=alice,
    )
    assert foreign_parent["code"] == "MESSAGE_NOT_FOUND"
    messages = (await call(client, "get_messages", session_id=sid, auth_token=alice))["messages"]
    assert [m["content"] for m in messages] == ["x", "z"]


async def test_close_session(client: Client) -> None:
    alice = await login(client, "alice")
    bob = await login(client, "bob")
    admin = await login(client, "root", "ops", admin=True)
    sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
    second = (await call(client, "create_session", purpose="q", auth_token=alice))["session_id"]
    await call(client, "add_message", session_id=sid, content="kept", auth_token=alice)
    assert (await fail(client, "close_session", session_id=sid, auth_token=bob))["code"] == (
        "PERMISSION_DENIED"
    )
    closed = await call(client, "close_session", session_id=sid, auth_token=alice)
    assert closed["is_active"] is False
    await call(client, "close_session", session_id=second, auth_token=admin)
    refused = await fail(client, "add_message", session_id=sid, content="x", auth_token=alice)
    assert refused["code"] == "SESSION_LOCKED"
    kept = await call(client, "get_messages", session_id=sid, auth_token=bob)
    assert [m["content"] for m in kept["messages"]] == ["kept"]
    assert (await call(client, "list_sessions", auth_token=bob))["sessions"] == []
    everything = await call(client, "list_sessions", active_only=False, auth_token=bob)
    assert {s["session_id"] for s in everything["sessions"]} == {sid, second}


async def test_list_sessions_pages_and_filters(client: Client) -> None:
    alice = await login(client, "alice")
    bob = await login(client, "bob")
    made = [
        (await call(client, "create_session", purpose=f"s{i}", auth_token=alice))["session_id"]
        for i in range(5)
    ]
    await call(client, "create_session", purpose="bob's", auth_token=bob)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        args = {"created_by": "alice", "limit": 2, "auth_token": bob}
        if cursor:
            args["cursor"] = cursor
        page = await call(client, "list_sessions", **args)
        seen.extend(s["session_id"] for s in page["sessions"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == list(reversed(made))


async def test_events_are_published_after_commit(client: Client, services: Services) -> None:
    received: list[Event] = []
    unsubscribe = services.bus.subscribe(received.append)
    alice = await login(client, "alice")
    sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
    mid = (await call(client, "add_message", session_id=sid, content="x", auth_token=alice))[
        "message_id"
    ]
    await call(
        client,
        "add_message",
        session_id=sid,
        content="x",
        idempotency_key="same",
        auth_token=alice,
    )
    await call(
        client,
        "add_message",
        session_id=sid,
        content="x",
        idempotency_key="same",
        auth_token=alice,
    )
    await call(
        client,
        "set_message_visibility",
        session_id=sid,
        message_id=mid,
        visibility="private",
        auth_token=alice,
    )
    await call(client, "close_session", session_id=sid, auth_token=alice)
    unsubscribe()
    unsubscribe()  # idempotent
    kinds = [e.kind for e in received]
    assert kinds == [
        EventKind.SESSION_CHANGED,
        EventKind.MESSAGE_ADDED,
        EventKind.MESSAGE_ADDED,  # the duplicate retry publishes nothing
        EventKind.VISIBILITY_CHANGED,
        EventKind.SESSION_CHANGED,
    ]
    assert received[1].message_id == mid


async def test_a_failing_subscriber_does_not_break_the_write(
    client: Client, services: Services
) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    forwarded: list[Event] = []
    services.bus.subscribe(broken)
    services.bus.add_forwarder(forwarded.append)
    services.bus.add_forwarder(broken)
    alice = await login(client, "alice")
    sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
    await call(client, "add_message", session_id=sid, content="x", auth_token=alice)
    assert [e.kind for e in forwarded] == [EventKind.SESSION_CHANGED, EventKind.MESSAGE_ADDED]
    services.bus.publish(Event(EventKind.MESSAGE_ADDED, origin="remote"))
    assert len(forwarded) == 2  # remote events are not forwarded again
    assert services.bus.subscriber_count >= 1


async def test_a_messages_own_timestamp_is_an_inclusive_bound(client: Client) -> None:
    # Real clock: stored times have more precision than the microseconds shown.
    alice = await login(client, "alice")
    sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
    for i in range(20):
        added = await call(client, "add_message", session_id=sid, content=f"m{i}", auth_token=alice)
        found = await call(
            client,
            "get_messages_advanced",
            session_id=sid,
            since=added["timestamp"],
            until=added["timestamp"],
            auth_token=alice,
        )
        assert [m["id"] for m in found["messages"]] == [added["message_id"]]
