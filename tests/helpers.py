"""Small helpers shared by tests: calling tools and reading their structured results."""

from __future__ import annotations

from typing import Any

import mcp.types as mt
import pytest
from fastmcp import Client
from mcp.shared.exceptions import MCPError

AGENT_KEY = "test-agent-key-0123456789abcdef"
ADMIN_KEY = "test-admin-key-0123456789abcdef"
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, args, raise_on_error=False)
    assert not result.is_error, f"{tool} failed: {result.structured_content or result.content}"
    assert result.structured_content is not None
    assert result.structured_content["success"] is True
    return result.structured_content


async def fail(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    """Call a tool that must fail; return the error body {success, code, message}."""
    result = await client.call_tool(tool, args, raise_on_error=False)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    body = result.structured_content
    assert body is not None, result.content
    assert body["success"] is False
    return body


async def login(
    client: Client,
    agent_id: str,
    agent_type: str = "claude",
    *,
    admin: bool = False,
    permissions: list[str] | None = None,
) -> str:
    perms = permissions or (["read", "write", "admin"] if admin else ["read", "write"])
    body = await call(
        client,
        "authenticate_agent",
        agent_id=agent_id,
        agent_type=agent_type,
        api_key=ADMIN_KEY if admin else AGENT_KEY,
        requested_permissions=perms,
    )
    token: str = body["token"]
    return token


async def unknown_tool(client: Any, tool: str, **args: Any) -> MCPError:
    """Call a tool the server does not offer (unknown, or hidden by a toolset): a JSON-RPC
    -32602 error (SPEC §19), never a tool result. Works with fastmcp's and the SDK's client."""
    with pytest.raises(MCPError) as raised:
        await client.call_tool(tool, args)
    assert raised.value.error.code == mt.INVALID_PARAMS
    assert raised.value.error.message.startswith("Unknown tool"), raised.value.error.message
    return raised.value
