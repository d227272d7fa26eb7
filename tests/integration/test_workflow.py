"""The seed's complete workflow through the in-process client."""

from __future__ import annotations

from fastmcp import Client

from tests.helpers import call, fail, login


async def test_four_agents_see_exactly_what_visibility_allows(client: Client) -> None:
    sender = await login(client, "alice", "claude")
    peer = await login(client, "bob", "claude")
    other = await login(client, "gina", "gemini")
    admin = await login(client, "root", "ops", admin=True)

    created = await call(client, "create_session", purpose="plan the release", auth_token=sender)
    sid = created["session_id"]
    for vis in ("public", "private", "agent_only"):
        await call(
            client,
            "add_message",
            session_id=sid,
            content=f"{vis} note",
            visibility=vis,
            auth_token=sender,
        )
    denied = await fail(
        client,
        "add_message",
        session_id=sid,
        content="x",
        visibility="admin_only",
        auth_token=sender,
    )
    assert denied["code"] == "PERMISSION_DENIED"
    await call(
        client,
        "add_message",
        session_id=sid,
        content="admin note",
        visibility="admin_only",
        auth_token=admin,
    )

    async def seen(token: str) -> list[str]:
        body = await call(client, "get_messages", session_id=sid, auth_token=token)
        return [m["content"] for m in body["messages"]]

    assert await seen(sender) == ["public note", "private note", "agent_only note"]
    assert await seen(peer) == ["public note", "agent_only note"]
    assert await seen(other) == ["public note"]
    assert await seen(admin) == ["public note", "admin note"]


async def test_missing_token_is_refused(client: Client) -> None:
    body = await fail(client, "create_session", purpose="x")
    assert body["code"] == "AUTH_REQUIRED"
