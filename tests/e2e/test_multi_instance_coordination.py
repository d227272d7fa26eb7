"""Coordination across two real ``scs serve`` processes on one PostgreSQL schema: a waiter on
B wakes for a post on A, a lock taken through A is refused through B, and a subscription on B
is notified of A's change (and not of a change it may not see)."""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any

import mcp.types as mt
import pytest
from fastmcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning

from tests.e2e.live import sdk_client
from tests.helpers import call, fail, login
from tests.instances import Instance
from tests.pgtools import requires_pg

pytestmark = [requires_pg, pytest.mark.postgres, pytest.mark.slow]


async def until(predicate: Any, timeout: float = 20.0) -> None:
    """Re-check an async condition until it holds (bounded in time and count)."""
    deadline = time.monotonic() + timeout
    for _ in range(2000):
        if await predicate():
            return
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def test_a_waiter_on_b_wakes_for_a_post_on_a(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    async with Client(a.url) as on_a, Client(b.url) as on_b, Client(b.url) as ops_b:
        alice = await login(on_a, "alice", "claude")
        bob = await login(on_b, "bob", "claude")
        root = await login(ops_b, "root", "ops", admin=True)
        sid = (await call(on_a, "create_session", purpose="wake", auth_token=alice))["session_id"]
        waiting = asyncio.create_task(
            call(
                on_b,
                "wait_for_messages",
                session_id=sid,
                after_id=0,
                timeout_seconds=30,
                auth_token=bob,
            )
        )

        async def bob_is_waiting() -> bool:
            metrics = await call(ops_b, "get_performance_metrics", auth_token=root)
            return bool(metrics["coordination"]["waiters"] >= 1)

        await until(bob_is_waiting)
        started = time.monotonic()
        posted = await call(
            on_a, "add_message", session_id=sid, content="wake up", auth_token=alice
        )
        woke = await asyncio.wait_for(waiting, 30)
        assert woke["timed_out"] is False
        assert [m["id"] for m in woke["messages"]] == [posted["message_id"]]
        assert time.monotonic() - started < 25  # woken by the post, not by the timeout


async def test_a_lock_taken_through_a_is_refused_through_b(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    async with Client(a.url) as on_a, Client(b.url) as on_b:
        alice = await login(on_a, "alice", "claude")
        bob = await login(on_b, "bob", "claude")
        sid = (await call(on_a, "create_session", purpose="locks", auth_token=alice))["session_id"]
        lock = {"session_id": sid, "action": "lock", "ttl_seconds": 60}
        await call(on_a, "coordinate_session_work", **lock, auth_token=alice)
        refused = await fail(on_b, "coordinate_session_work", **lock, auth_token=bob)
        assert refused["code"] == "SESSION_LOCKED"
        assert refused["holder"] == "alice"
        blocked = await fail(on_b, "add_message", session_id=sid, content="x", auth_token=bob)
        assert blocked["code"] == "SESSION_LOCKED"
        await call(on_a, "add_message", session_id=sid, content="mine", auth_token=alice)
        unlock = {**lock, "action": "unlock"}
        await call(on_a, "coordinate_session_work", **unlock, auth_token=alice)
        await call(on_b, "coordinate_session_work", **lock, auth_token=bob)
        again = await fail(on_a, "coordinate_session_work", **lock, auth_token=alice)
        assert again["holder"] == "bob"


async def test_racing_lockers_on_both_instances_have_exactly_one_winner(
    pair: tuple[Instance, Instance],
) -> None:
    a, b = pair
    async with Client(a.url) as on_a, Client(b.url) as on_b:
        owner = await login(on_a, "owner", "claude")
        sid = (await call(on_a, "create_session", purpose="race", auth_token=owner))["session_id"]
        racers = [
            (on_a if i % 2 == 0 else on_b, await login(on_a if i % 2 == 0 else on_b, f"r{i}"))
            for i in range(8)
        ]
        results = await asyncio.gather(
            *(
                client.call_tool(
                    "coordinate_session_work",
                    {
                        "session_id": sid,
                        "action": "lock",
                        "resource": "src/app.py",
                        "auth_token": token,
                    },
                    raise_on_error=False,
                )
                for client, token in racers
            )
        )
        winners = [r for r in results if not r.is_error]
        assert len(winners) == 1
        codes = {r.structured_content["code"] for r in results if r.is_error}
        assert codes == {"SESSION_LOCKED"}


class Inbox:
    def __init__(self) -> None:
        self.uris: asyncio.Queue[str] = asyncio.Queue()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, mt.ResourceUpdatedNotification):
            self.uris.put_nowait(str(message.params.uri))


async def test_a_subscription_on_b_receives_a_change_made_on_a(
    pair: tuple[Instance, Instance],
) -> None:
    a, b = pair
    inbox = Inbox()
    async with Client(a.url) as on_a, Client(b.url) as on_b:
        alice = await login(on_a, "alice", "claude")
        carol = await login(on_a, "carol", "claude")
        bob = await login(on_b, "bob", "claude")
        watched = (await call(on_a, "create_session", purpose="watched", auth_token=alice))[
            "session_id"
        ]
        marker = (await call(on_a, "create_session", purpose="marker", auth_token=alice))[
            "session_id"
        ]
        async with sdk_client(b.url, bob, mode="legacy", message_handler=inbox) as subscriber:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await subscriber.subscribe_resource(f"session://{watched}")
                await subscriber.subscribe_resource(f"session://{marker}")
            # The notification stream opens asynchronously: post on A until B delivers.
            for attempt in range(60):
                await call(
                    on_a,
                    "add_message",
                    session_id=watched,
                    content=f"hi {attempt}",
                    auth_token=alice,
                )
                try:
                    first = await asyncio.wait_for(inbox.uris.get(), 0.5)
                    break
                except TimeoutError:
                    continue
            else:
                raise AssertionError("no notification reached the subscriber on B")
            assert first == f"session://{watched}"
            while not inbox.uris.empty():
                inbox.uris.get_nowait()
            # A change bob may not see, then a visible one elsewhere: the first notification
            # B sends bob must be the visible one (one stream, delivered in order).
            await call(
                on_a,
                "add_message",
                session_id=watched,
                content="carol's secret",
                visibility="private",
                auth_token=carol,
            )
            await call(on_a, "add_message", session_id=marker, content="marker", auth_token=alice)
            assert await asyncio.wait_for(inbox.uris.get(), 10) == f"session://{marker}"


async def test_a_listen_stream_on_b_receives_a_change_made_on_a(
    pair: tuple[Instance, Instance],
) -> None:
    a, b = pair
    async with Client(a.url) as on_a, Client(b.url) as on_b:
        alice = await login(on_a, "alice", "claude")
        bob = await login(on_b, "bob", "gemini")
        sid = (await call(on_a, "create_session", purpose="listen", auth_token=alice))["session_id"]
        async with sdk_client(b.url, bob) as subscriber:
            assert subscriber.protocol_version == "2026-07-28"
            async with subscriber.listen(resource_subscriptions=[f"session://{sid}"]) as sub:
                events = aiter(sub)
                await call(on_a, "add_message", session_id=sid, content="hi", auth_token=alice)
                event = await asyncio.wait_for(anext(events), 15)
                assert str(event.uri) == f"session://{sid}"  # type: ignore[union-attr]
