"""Build the FastMCP server for one set of services."""

from __future__ import annotations

from fastmcp import FastMCP

from shared_context import __version__
from shared_context.mcp import prompts, resources, session_resource
from shared_context.mcp.errors import ErrorMiddleware, RequestErrors
from shared_context.mcp.tools import (
    admin,
    audit,
    auth,
    coordination,
    memory,
    messages,
    search,
    sessions,
)
from shared_context.mcp.toolsets import ToolsetFilter
from shared_context.services.container import Services

LIST_PAGE_SIZE = 100
INSTRUCTIONS = (
    "Shared Context Server: a shared blackboard for teams of agents. If your connection is "
    "configured with an agent identity (X-Agent-Id header or SCS_AGENT_ID), just call the "
    "tools. Otherwise call authenticate_agent with your API key and pass the returned token "
    "as auth_token. Create or join a session, post messages with a visibility, read what "
    "others posted."
)


def build_mcp(app: Services) -> FastMCP:
    mcp = FastMCP(
        "shared-context-server",
        instructions=INSTRUCTIONS,
        version=__version__,
        middleware=[
            ErrorMiddleware(app.metrics.calls),
            ToolsetFilter(app.settings.toolsets),
            RequestErrors(),
        ],
        mask_error_details=True,
        # Paginating the lists makes their cursors real: a malformed cursor is a JSON-RPC
        # -32602 error on tools/list, resources/list and prompts/list alike (SPEC §19).
        list_page_size=LIST_PAGE_SIZE,
    )
    for module in (
        auth,
        sessions,
        messages,
        search,
        memory,
        audit,
        coordination,
        resources,
        session_resource,
        prompts,
        admin,
    ):
        module.register(mcp, app)
    return mcp
