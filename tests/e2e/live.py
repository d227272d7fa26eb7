"""A real HTTP server on 127.0.0.1 (free port) in the test's event loop, and SDK clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from shared_context.bootstrap import build_http_app
from shared_context.services.container import Services
from tests.helpers import AGENT_KEY


@asynccontextmanager
async def serve_http(app: Services) -> AsyncIterator[str]:
    """Serve ``app`` over Streamable HTTP; yields the /mcp URL."""
    config = uvicorn.Config(
        build_http_app(app), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def token_for(app: Services, agent_id: str, agent_type: str = "claude") -> str:
    body = await app.auth.authenticate(agent_id, agent_type, AGENT_KEY, ["read", "write"])
    token: str = body.token
    return token


@asynccontextmanager
async def sdk_client(url: str, token: str | None, **kwargs: Any) -> AsyncIterator[Client]:
    """The official MCP SDK client over Streamable HTTP, with a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as http,
        Client(streamable_http_client(url, http_client=http), **kwargs) as client,
    ):
        yield client


async def sdk_call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    """Call a tool over the SDK client; return the structured body (success or error)."""
    result = await client.call_tool(tool, args)
    body = result.structured_content
    assert isinstance(body, dict), result
    assert body["success"] is (not result.is_error)
    return body
