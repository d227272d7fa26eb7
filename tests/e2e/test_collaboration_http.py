"""The seed's collaboration scenario over real Streamable HTTP with the official SDK client."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from shared_context.services.container import Services
from tests.e2e.live import sdk_call, sdk_client, serve_http, token_for


async def test_multi_agent_collaboration_over_http(services: Services) -> None:
    async with serve_http(services) as url:
        tokens = [await token_for(services, f"agent-{i + 1}") for i in range(3)]
        async with AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(sdk_client(url, t)) for t in tokens]
            a1, a2, _a3 = clients
            created = await sdk_call(a1, "create_session", purpose="collab over http")
            sid = created["session_id"]
            posted = await asyncio.gather(
                *(
                    sdk_call(c, "add_message", session_id=sid, content=f"from agent {i + 1}")
                    for i, c in enumerate(clients)
                )
            )
            assert all(p["success"] for p in posted)
            lock1 = await sdk_call(a1, "coordinate_session_work", session_id=sid, action="lock")
            assert lock1["success"] and lock1["holder"] == "agent-1"
            lock2 = await sdk_call(a2, "coordinate_session_work", session_id=sid, action="lock")
            assert lock2["success"] is False and lock2["code"] == "SESSION_LOCKED"
            assert lock2["holder"] == "agent-1" and lock2["expires_at"] == lock1["expires_at"]
            post2 = await sdk_call(a2, "add_message", session_id=sid, content="blocked")
            assert post2["code"] == "SESSION_LOCKED"
            unlock = await sdk_call(a1, "coordinate_session_work", session_id=sid, action="unlock")
            assert unlock["success"]
            retry = await sdk_call(a2, "coordinate_session_work", session_id=sid, action="lock")
            assert retry["success"] and retry["holder"] == "agent-2"

            # wait_for_messages over HTTP: agent 1 waits, agent 2 (the lock holder) posts.
            waiting = asyncio.create_task(
                sdk_call(a1, "wait_for_messages", session_id=sid, after_id=3, timeout_seconds=10)
            )
            for _ in range(500):
                if services.coordination.waits.waiters:
                    break
                await asyncio.sleep(0.005)
            await sdk_call(a2, "add_message", session_id=sid, content="done, over to you")
            woke = await asyncio.wait_for(waiting, 10)
            assert [m["content"] for m in woke["messages"]] == ["done, over to you"]
