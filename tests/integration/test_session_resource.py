"""session:// through the in-process client, identified by SCS_AGENT_TOKEN (as over stdio)."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastmcp import Client, FastMCP
from mcp.client.subscriptions import ResourceUpdated, listen
from mcp.shared.exceptions import MCPError
from pydantic import SecretStr

from shared_context.services.container import Services
from tests.helpers import call, login


async def test_resource_shows_what_the_reader_may_see(services: Services, server: FastMCP) -> None:
    async with Client(server) as setup:
        alice = await login(setup, "alice", "claude")
        bob = await login(setup, "bob", "gemini")
        sid = (await call(setup, "create_session", purpose="r", auth_token=alice))["session_id"]
        uri = f"session://{sid}"
        with pytest.raises(MCPError, match="AUTH_REQUIRED"):
            await setup.read_resource(uri)
    services.settings.agent_token = SecretStr(bob)
    async with Client(server) as reader:
        await call(reader, "add_message", session_id=sid, content="hi", auth_token=alice)
        await call(
            reader,
            "add_message",
            session_id=sid,
            content="mine",
            visibility="private",
            auth_token=alice,
        )
        contents = await reader.read_resource(uri)
        body = json.loads(contents[0].text)  # type: ignore[union-attr]
        assert body["session"]["session_id"] == sid
        assert body["session"]["message_count"] == 1
        assert [m["content"] for m in body["messages"]] == ["hi"]
        assert body["participants"] == ["alice"]
        assert body["has_older"] is False
        with pytest.raises(MCPError, match=r"(?i)not found"):
            await reader.read_resource("session://session_0000000000000000")

        # The in-process client speaks 2026-07-28: subscriptions/listen.
        assert reader.protocol_version == "2026-07-28"
        async with listen(reader.session, resource_subscriptions=[uri]) as sub:
            assert sub.honored.resource_subscriptions == [uri]
            await call(reader, "add_message", session_id=sid, content="again", auth_token=alice)
            event = await asyncio.wait_for(anext(aiter(sub)), 5)
            assert event == ResourceUpdated(uri=uri)
