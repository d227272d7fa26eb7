"""MCP resources. ``agent://{agent_id}/memory``: the reader's own memory, for that agent only.

Resources carry no arguments, so the reader is identified by the HTTP bearer header (over
stdio: ``SCS_AGENT_TOKEN``). Reading another agent's memory answers exactly like reading a
resource that does not exist: the same JSON-RPC error, code and message, built by FastMCP's
own not-found path (``mcp.errors.RequestErrors`` turns our hidden-or-missing errors into
FastMCP's ``NotFoundError`` so there is one code path for both).
"""

from __future__ import annotations

from fastmcp import FastMCP

from shared_context.domain.errors import NotFound
from shared_context.domain.validation import dumps
from shared_context.mcp.errors import guarded_resource
from shared_context.mcp.identity import resource_reader
from shared_context.services.container import Services

AGENT_MEMORY_URI = "agent://{agent_id}/memory"


def hidden(uri: str) -> NotFound:
    return NotFound(f"Unknown resource: {uri!r}")


def register(mcp: FastMCP, app: Services) -> None:
    @mcp.resource(
        AGENT_MEMORY_URI,
        name="agent_memory",
        description="Your own memory entries (every scope) with their values; only the agent "
        "named in the URI can read it, with its bearer token.",
        mime_type="application/json",
    )
    @guarded_resource
    async def agent_memory(agent_id: str) -> str:
        principal = await resource_reader(app)
        if principal.agent_id != agent_id:
            raise hidden(AGENT_MEMORY_URI)
        return dumps((await app.memory.snapshot(principal)).model_dump(mode="json"))
