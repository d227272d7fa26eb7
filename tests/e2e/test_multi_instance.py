"""Two real ``scs serve`` processes sharing one PostgreSQL schema."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from fastmcp import Client

from tests.helpers import call, login
from tests.instances import Instance
from tests.pgtools import requires_pg

pytestmark = [requires_pg, pytest.mark.postgres, pytest.mark.slow]


async def test_a_post_on_a_is_seen_on_b(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    async with Client(a.url) as on_a, Client(b.url) as on_b:
        alice = await login(on_a, "alice", "claude")
        bob = await login(on_b, "bob", "claude")
        sid = (await call(on_a, "create_session", purpose="shared", auth_token=alice))["session_id"]
        await call(on_a, "add_message", session_id=sid, content="from A", auth_token=alice)
        await call(
            on_a,
            "add_message",
            session_id=sid,
            content="mine",
            visibility="private",
            auth_token=alice,
        )
        seen = await call(on_b, "get_messages", session_id=sid, auth_token=bob)
        assert [m["content"] for m in seen["messages"]] == ["from A"]
        # A token minted by A is accepted by B: the signing secret lives in the shared database.
        mine = await call(on_b, "get_messages", session_id=sid, auth_token=alice)
        assert [m["content"] for m in mine["messages"]] == ["from A", "mine"]


async def test_sigkill_mid_write_loses_no_acknowledged_message(
    pair: tuple[Instance, Instance], extra_instance: Instance
) -> None:
    a, b = extra_instance, pair[1]
    acknowledged: dict[int, str] = {}
    async with Client(b.url) as on_b:
        bob = await login(on_b, "bob", "claude")
        sid = (await call(on_b, "create_session", purpose="crash", auth_token=bob))["session_id"]
        enough = asyncio.Event()

        async def writer(n: int, client: Client, token: str) -> None:
            for i in range(10_000):
                content = f"w{n}-{i}"
                try:
                    body = await call(
                        client, "add_message", session_id=sid, content=content, auth_token=token
                    )
                except Exception:  # the server died under us: unacknowledged, may be lost
                    return
                acknowledged[body["message_id"]] = content
                if len(acknowledged) >= 60:
                    enough.set()

        async def writers() -> None:
            async with Client(a.url) as on_a:
                token = await login(on_a, "alice", "claude")
                await asyncio.gather(*(writer(n, on_a, token) for n in range(8)))

        task = asyncio.create_task(writers())
        await asyncio.wait_for(enough.wait(), 60)
        a.kill()
        # The client session itself may fail on the dead server.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 60)
        stored: dict[int, str] = {}
        cursor = None
        for _ in range(100):
            page = await call(
                on_b, "get_messages", session_id=sid, limit=1000, cursor=cursor, auth_token=bob
            )
            stored.update({m["id"]: m["content"] for m in page["messages"]})
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
    assert len(acknowledged) >= 60
    missing = {i: c for i, c in acknowledged.items() if stored.get(i) != c}
    assert missing == {}
