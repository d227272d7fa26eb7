"""Two server stacks on one SQLite file behave as one server (SPEC §15).

Each stack is what one ``scs serve`` process runs: its own connections, writer, read cache,
event bus and change relay. Two of them in one test process share nothing but the file, as two
processes do (tests/e2e/test_many_processes.py repeats the key cases with real processes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastmcp import Client

from shared_context.bootstrap import open_services
from shared_context.events.bus import Event, EventKind
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.helpers import call, fail, login

Pair = tuple[tuple[Services, Client], tuple[Services, Client]]


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    data = tmp_path / "data"
    # A slow poll: every freshness below must come from the read-time check, not the timer.
    slow = {"change_poll_seconds": 1.0}
    async with (
        open_services(make_settings(data, **slow)) as one,
        open_services(make_settings(data, **slow)) as two,
        Client(build_mcp(one)) as on_one,
        Client(build_mcp(two)) as on_two,
    ):
        yield (one, on_one), (two, on_two)


async def test_a_post_through_one_is_read_at_once_through_the_other(pair: Pair) -> None:
    (_, on_one), (two, on_two) = pair
    alice = await login(on_one, "alice")
    bob = await login(on_two, "bob")
    sid = (await call(on_one, "create_session", purpose="shared", auth_token=alice))["session_id"]
    await call(on_one, "add_message", session_id=sid, content="first", auth_token=alice)
    # Warm every cache level of the second stack, twice (the second read is a cache hit).
    for _ in range(2):
        page = await call(on_two, "get_messages", session_id=sid, auth_token=bob)
        assert [m["content"] for m in page["messages"]] == ["first"]
    assert (await two.metrics.snapshot()).cache["pages"]["hits"] >= 1
    await call(on_one, "add_message", session_id=sid, content="second", auth_token=alice)
    # No wait at all: the read itself notices the other stack's commit.
    page = await call(on_two, "get_messages", session_id=sid, auth_token=bob)
    assert [m["content"] for m in page["messages"]] == ["first", "second"]
    session = await call(on_two, "get_session", session_id=sid, auth_token=bob)
    assert session["session"]["message_count"] == 2
    await call(on_one, "close_session", session_id=sid, auth_token=alice)
    session = await call(on_two, "get_session", session_id=sid, auth_token=bob)
    assert session["session"]["is_active"] is False
    closed = await fail(on_two, "add_message", session_id=sid, content="x", auth_token=bob)
    assert closed["code"] == "SESSION_LOCKED"  # a closed session takes no more messages


async def test_a_waiter_in_one_wakes_for_a_post_through_the_other(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with (
        open_services(make_settings(data)) as one,
        open_services(make_settings(data)) as two,
        Client(build_mcp(one)) as on_one,
        Client(build_mcp(two)) as on_two,
    ):
        alice = await login(on_one, "alice")
        bob = await login(on_two, "bob")
        sid = (await call(on_one, "create_session", purpose="w", auth_token=alice))["session_id"]
        waiting = asyncio.create_task(
            call(on_two, "wait_for_messages", session_id=sid, timeout_seconds=30, auth_token=bob)
        )
        for _ in range(500):  # until the waiter has subscribed (bounded)
            if two.coordination.waits.waiters:
                break
            await asyncio.sleep(0.01)
        assert two.coordination.waits.waiters == 1
        # A private post by alice must not wake bob; the public one must.
        await call(
            on_one,
            "add_message",
            session_id=sid,
            content="secret",
            visibility="private",
            auth_token=alice,
        )
        await call(on_one, "add_message", session_id=sid, content="hello", auth_token=alice)
        body = await asyncio.wait_for(waiting, 10)
        assert body["timed_out"] is False
        assert [m["content"] for m in body["messages"]] == ["hello"]
        # Events from the other stack are completed from the database and marked remote.
        assert two.cross_process is not None
        assert two.cross_process.stats()["relayed"] >= 2


async def test_private_posts_stay_private_across_stacks(pair: Pair) -> None:
    (_, on_one), (_, on_two) = pair
    alice = await login(on_one, "alice")
    bob = await login(on_two, "bob")
    sid = (await call(on_one, "create_session", purpose="p", auth_token=alice))["session_id"]
    await call(on_two, "get_messages", session_id=sid, auth_token=bob)  # warm
    await call(
        on_one,
        "add_message",
        session_id=sid,
        content="alice only quartz",
        visibility="private",
        auth_token=alice,
    )
    assert (await call(on_two, "get_messages", session_id=sid, auth_token=bob))["messages"] == []
    found = await call(on_two, "search_context", session_id=sid, query="quartz", auth_token=bob)
    assert found["results"] == []
    waited = await call(
        on_two, "wait_for_messages", session_id=sid, after_id=0, timeout_seconds=0, auth_token=bob
    )
    assert waited["messages"] == []
    mine = await call(on_two, "get_messages", session_id=sid, auth_token=alice)
    assert [m["content"] for m in mine["messages"]] == ["alice only quartz"]


async def test_locks_hold_across_stacks(pair: Pair) -> None:
    (_, on_one), (_, on_two) = pair
    alice = await login(on_one, "alice")
    bob = await login(on_two, "bob")
    sid = (await call(on_one, "create_session", purpose="l", auth_token=alice))["session_id"]
    await call(on_one, "coordinate_session_work", session_id=sid, action="lock", auth_token=alice)
    refused = await fail(
        on_two, "coordinate_session_work", session_id=sid, action="lock", auth_token=bob
    )
    assert refused["code"] == "SESSION_LOCKED"
    assert refused["details"]["holder"] == "alice"
    blocked = await fail(on_two, "add_message", session_id=sid, content="x", auth_token=bob)
    assert blocked["code"] == "SESSION_LOCKED"
    await call(on_one, "coordinate_session_work", session_id=sid, action="unlock", auth_token=alice)
    await call(on_two, "add_message", session_id=sid, content="now", auth_token=bob)

    async def take(client: Client, token: str) -> bool:
        result = await client.call_tool(
            "coordinate_session_work",
            {"session_id": sid, "action": "lock", "resource": "a.py", "auth_token": token},
            raise_on_error=False,
        )
        return not result.is_error

    # Twenty agents race for one named lease through both stacks: exactly one wins.
    tokens = [
        (on_one if n % 2 else on_two, await login(on_one if n % 2 else on_two, f"racer{n}"))
        for n in range(20)
    ]
    wins = await asyncio.gather(*(take(client, token) for client, token in tokens))
    assert sum(wins) == 1


async def test_memory_compare_and_set_and_quota_hold_across_stacks(tmp_path: Path) -> None:
    data = tmp_path / "data"
    limits = {"memory_max_entries_per_agent": 5}
    async with (
        open_services(make_settings(data, **limits)) as one,
        open_services(make_settings(data, **limits)) as two,
        Client(build_mcp(one)) as on_one,
        Client(build_mcp(two)) as on_two,
    ):
        token = await login(on_one, "alice")
        first = await call(on_one, "set_memory", key="plan", value=1, auth_token=token)

        async def cas(client: Client, n: int) -> str:
            result = await client.call_tool(
                "set_memory",
                {"key": "plan", "value": n, "if_version": first["version"], "auth_token": token},
                raise_on_error=False,
            )
            body = result.structured_content or {}
            return "ok" if not result.is_error else str(body.get("code"))

        outcomes = await asyncio.gather(*(cas(on_one if n % 2 else on_two, n) for n in range(20)))
        assert outcomes.count("ok") == 1
        assert outcomes.count("VERSION_CONFLICT") == 19
        for n in range(4):
            await call(
                on_one if n % 2 else on_two, "set_memory", key=f"k{n}", value=n, auth_token=token
            )
        over = await fail(on_two, "set_memory", key="k9", value=9, auth_token=token)
        assert over["code"] == "QUOTA_EXCEEDED"
        got = await call(on_two, "get_memory", key="plan", auth_token=token)
        assert got["version"] == first["version"] + 1


async def test_presence_registered_through_one_is_seen_through_the_other(pair: Pair) -> None:
    (_, on_one), (_, on_two) = pair
    alice = await login(on_one, "alice")
    bob = await login(on_two, "bob")
    await call(on_one, "register_agent_presence", status="busy", auth_token=alice)
    agents = await call(on_two, "get_active_agents", auth_token=bob)
    assert {a["agent_id"]: a["status"] for a in agents["agents"]}["alice"] == "busy"


async def test_a_token_refreshed_through_one_is_refused_at_once_by_the_other(pair: Pair) -> None:
    (_, on_one), (_, on_two) = pair
    alice = await login(on_one, "alice")
    await call(on_two, "list_sessions", auth_token=alice)  # the other stack remembers the check
    fresh = await call(on_one, "refresh_token", auth_token=alice)
    refused = await fail(on_two, "list_sessions", auth_token=alice)
    assert refused["code"] == "TOKEN_INVALID"
    await call(on_two, "list_sessions", auth_token=fresh["token"])


async def test_own_changes_are_not_relayed_back(pair: Pair) -> None:
    (one, on_one), (two, on_two) = pair
    seen: list[Event] = []
    remote: list[Event] = []
    one.bus.subscribe(seen.append)
    two.bus.subscribe(remote.append)  # before any write: the watcher may relay at any time
    alice = await login(on_one, "alice")
    sid = (await call(on_one, "create_session", purpose="o", auth_token=alice))["session_id"]
    await call(on_one, "add_message", session_id=sid, content="mine", auth_token=alice)
    await call(on_one, "get_messages", session_id=sid, auth_token=alice)  # reads the change log
    assert one.cross_process is not None
    assert one.cross_process.stats()["own_skipped"] >= 2
    added = [e for e in seen if e.kind is EventKind.MESSAGE_ADDED]
    assert [e.origin for e in added] == ["local"]
    # ... while the other stack gets it exactly once, as a remote event (at the latest when
    # its next read checks for changes).
    await call(on_two, "get_messages", session_id=sid, auth_token=alice)
    assert [e.origin for e in remote if e.kind is EventKind.MESSAGE_ADDED] == ["remote"]


async def test_own_commits_are_settled_without_reading_the_change_log(pair: Pair) -> None:
    """A process that is the only writer never queues its reads behind a change-log read
    (issue 15): its own commits are recognised from the sequence counter alone. A commit by
    the other stack still is read and relayed."""
    (one, on_one), (_, on_two) = pair
    assert one.cross_process is not None
    alice = await login(on_one, "alice")
    sid = (await call(on_one, "create_session", purpose="own", auth_token=alice))["session_id"]
    before = one.cross_process.stats()["catch_ups"]
    for i in range(5):
        await call(on_one, "add_message", session_id=sid, content=f"m{i}", auth_token=alice)
        await call(on_one, "get_messages", session_id=sid, auth_token=alice)
    assert one.cross_process.stats()["catch_ups"] == before
    assert one.cross_process.stats()["own_skipped"] >= 5
    bob = await login(on_two, "bob")
    await call(on_two, "add_message", session_id=sid, content="theirs", auth_token=bob)
    page = await call(on_one, "get_messages", session_id=sid, auth_token=alice)
    assert page["messages"][-1]["content"] == "theirs"
    assert one.cross_process.stats()["catch_ups"] > before
