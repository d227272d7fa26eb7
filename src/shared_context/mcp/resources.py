"""MCP resources. ``agent://{agent_id}/memory``: the reader's own memory, for that agent only.

Resources carry no arguments, so the reader is identified by the HTTP bearer header (over
stdio: ``SCS_AGENT_TOKEN``). Reading another agent's memory answers exactly like reading a
resource that does not exist: the same JSON-RPC error, code and message, built by FastMCP's
own not-found path (``ResourceErrors`` turns our hidden-or-missing errors into FastMCP's
``NotFoundError`` so there is one code path for both).
"""

from __future__ import annotations

import logging

from fastmcp import FastMCP
from fastmcp.exceptions import NotFoundError, ResourceError
from fastmcp.resources.base import ResourceResult
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from mcp import MCPError
from mcp import types as mcp_types
from mcp_types import INVALID_REQUEST

from shared_context.domain.errors import NotFound, SharedContextError
from shared_context.domain.validation import dumps
from shared_context.mcp.identity import resource_reader
from shared_context.services.container import Services

AGENT_MEMORY_URI = "agent://{agent_id}/memory"


class ResourceErrors(Middleware):
    """Map our errors raised by resource handlers to MCP errors, in one place."""

    async def on_read_resource(
        self,
        context: MiddlewareContext[mcp_types.ReadResourceRequestParams],
        call_next: CallNext[mcp_types.ReadResourceRequestParams, ResourceResult],
    ) -> ResourceResult:
        try:
            return await call_next(context)
        except ResourceError as exc:
            cause = exc.__cause__
            if isinstance(cause, NotFound):
                raise NotFoundError(f"Unknown resource: {str(context.message.uri)!r}") from None
            if isinstance(cause, SharedContextError):
                raise MCPError(
                    code=INVALID_REQUEST,
                    message=f"{cause.code.value}: {cause.message}",
                    data=cause.to_dict(),
                ) from None
            raise


def hidden(uri: str) -> NotFound:
    return NotFound(f"Unknown resource: {uri!r}")


def register(mcp: FastMCP, app: Services) -> None:
    mcp.add_middleware(ResourceErrors())

    @mcp.resource(
        AGENT_MEMORY_URI,
        name="agent_memory",
        description="Your own memory entries (every scope) with their values; only the agent "
        "named in the URI can read it, with its bearer token.",
        mime_type="application/json",
    )
    async def agent_memory(agent_id: str) -> str:
        try:
            principal = await resource_reader(app)
            if principal.agent_id != agent_id:
                raise hidden(AGENT_MEMORY_URI)
            snapshot = await app.memory.snapshot(principal)
        except SharedContextError as exc:
            # DEBUG: a refused read is the caller's problem, not a server error to log loudly.
            raise ResourceError(exc.message, log_level=logging.DEBUG) from exc
        return dumps(snapshot)
