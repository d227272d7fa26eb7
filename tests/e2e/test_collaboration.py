"""The seed's multi-agent collaboration scenario, through the in-process client."""

from __future__ import annotations

import asyncio

from fastmcp import Client

from tests.helpers import call, fail, login


async def test_multi_agent_collaboration_scenarios(client: Client) -> None:
    tokens = [await login(client, f"agent-{i + 1}", "claude") for i in range(3)]
    sid = (await call(client, "create_session", purpose="collab", auth_token=tokens[0]))[
        "session_id"
    ]
    posted = await asyncio.gather(
        *(
            call(
                client,
                "add_message",
                session_id=sid,
                content=f"Message from agent {i + 1}",
                auth_token=token,
            )
            for i, token in enumerate(tokens)
        )
    )
    assert all(r["success"] for r in posted)

    lock1 = await call(client, "coordinate_session_work", session_id=sid, auth_token=tokens[0])
    assert lock1["holder"] == "agent-1" and lock1["action"] == "lock"
    assert lock1["expires_at"] and lock1["resource"] is None

    lock2 = await fail(client, "coordinate_session_work", session_id=sid, auth_token=tokens[1])
    assert lock2["code"] == "SESSION_LOCKED"
    assert lock2["holder"] == "agent-1"
    assert lock2["expires_at"] == lock1["expires_at"]

    blocked = await fail(
        client, "add_message", session_id=sid, content="mine now?", auth_token=tokens[1]
    )
    assert blocked["code"] == "SESSION_LOCKED" and blocked["holder"] == "agent-1"
    # The holder itself may still post.
    await call(client, "add_message", session_id=sid, content="holder posts", auth_token=tokens[0])

    not_held = await fail(
        client, "coordinate_session_work", session_id=sid, action="unlock", auth_token=tokens[1]
    )
    assert not_held["code"] == "LOCK_NOT_HELD"

    unlock1 = await call(
        client, "coordinate_session_work", session_id=sid, action="unlock", auth_token=tokens[0]
    )
    assert unlock1["holder"] is None and unlock1["released_holder"] == "agent-1"

    lock2_retry = await call(
        client, "coordinate_session_work", session_id=sid, auth_token=tokens[1]
    )
    assert lock2_retry["holder"] == "agent-2"
    status = await call(
        client, "coordinate_session_work", session_id=sid, action="status", auth_token=tokens[2]
    )
    assert status["locked"] is True and status["holder"] == "agent-2"
