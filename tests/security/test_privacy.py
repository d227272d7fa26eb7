"""Identity and privacy: stored identities come from the token, hidden objects answer like
missing ones, refusals are answers and not server faults."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastmcp import Client

from tests.helpers import call, fail, login


async def test_stored_identity_comes_from_the_token(client: Client) -> None:
    alice = await login(client, "alice", "claude")
    sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
    result = await client.call_tool(
        "add_message",
        {
            "session_id": sid,
            "content": "who am i",
            "sender": "mallory",
            "sender_type": "admin",
            "agent_id": "mallory",
            "auth_token": alice,
        },
        raise_on_error=False,
    )
    if result.is_error:
        assert result.structured_content is not None
        assert result.structured_content["code"] == "INVALID_INPUT"
        return
    messages = (await call(client, "get_messages", session_id=sid, auth_token=alice))["messages"]
    assert [(m["sender"], m["sender_type"]) for m in messages] == [("alice", "claude")]


async def test_refusals_are_not_logged_as_server_faults(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await fail(client, "list_sessions")
    await fail(client, "list_sessions", auth_token="garbage")
    await fail(client, "get_messages", session_id="nope", auth_token=await login(client, "a"))
    faults = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert faults == []


async def test_hidden_messages_answer_like_missing_ones(client: Client) -> None:
    alice = await login(client, "alice", "claude")
    bob = await login(client, "bob", "gemini")
    sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
    secret = (
        await call(
            client,
            "add_message",
            session_id=sid,
            content="secret",
            visibility="private",
            auth_token=alice,
        )
    )["message_id"]
    missing = secret + 1000

    async def answer(tool: str, target: int, **args: Any) -> tuple[str, str]:
        body = await fail(client, tool, session_id=sid, auth_token=bob, **args)
        return body["code"], body["message"].replace(str(target), "N")

    for tool, args in (
        ("add_message", {"content": "reply"}),
        ("set_message_visibility", {"visibility": "public"}),
    ):
        key = "parent_message_id" if tool == "add_message" else "message_id"
        hidden = await answer(tool, secret, **{key: secret}, **args)
        absent = await answer(tool, missing, **{key: missing}, **args)
        assert hidden == absent
        assert hidden[0] == "MESSAGE_NOT_FOUND"
    hidden_session = await fail(
        client, "get_session", session_id="session_ffffffffffffffff", auth_token=bob
    )
    malformed = await fail(client, "get_session", session_id="session_zz", auth_token=bob)
    assert hidden_session["code"] == malformed["code"] == "SESSION_NOT_FOUND"
