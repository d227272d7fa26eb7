"""Tool profiles: ``SCS_TOOLSETS`` (server-wide) and the ``X-SCS-Toolsets`` header (per HTTP
request, can only narrow) limit what tools/list offers and what can be called.

A smaller tools/list costs every agent fewer context tokens on every turn; ``bench/toolsets.py``
measures each profile. Every tool belongs to exactly one toolset (a test checks).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastmcp.exceptions import NotFoundError
from fastmcp.server.dependencies import get_http_headers
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import Tool, ToolResult
from mcp import types as mcp_types

from shared_context.domain.errors import InvalidInput

TOOLSETS: dict[str, frozenset[str]] = {
    "core": frozenset(
        {
            "authenticate_agent",
            "refresh_token",
            "create_session",
            "get_session",
            "list_sessions",
            "close_session",
            "add_message",
            "get_messages",
            "get_messages_advanced",
            "set_message_visibility",
        }
    ),
    "search": frozenset({"search_context", "search_by_sender", "search_by_timerange"}),
    "memory": frozenset({"set_memory", "get_memory", "list_memory", "delete_memory"}),
    "coordination": frozenset(
        {
            "register_agent_presence",
            "get_active_agents",
            "coordinate_session_work",
            "wait_for_messages",
        }
    ),
    "admin": frozenset(
        {
            "get_performance_metrics",
            "generate_api_documentation",
            "get_audit_log",
            "get_agent_activity_summary",
        }
    ),
}
HEADER = "x-scs-toolsets"
MAX_HEADER_CHARS = 200


def parse_toolsets(value: str, *, strict: bool = True) -> frozenset[str]:
    """``"core,search"`` → those names; empty → every toolset. Unknown names are refused
    (``strict``, for settings) or ignored (for a request header)."""
    names = {part.strip() for part in value.split(",") if part.strip()}
    unknown = names - TOOLSETS.keys()
    if unknown and strict:
        raise InvalidInput(
            f"Unknown toolset(s) {', '.join(sorted(unknown))}; use {', '.join(TOOLSETS)}."
        )
    return frozenset(names & TOOLSETS.keys()) or frozenset(TOOLSETS)


def tools_of(toolsets: frozenset[str]) -> frozenset[str]:
    return frozenset().union(*(TOOLSETS[name] for name in toolsets))


class ToolsetFilter(Middleware):
    def __init__(self, configured: str) -> None:
        self._toolsets = parse_toolsets(configured)
        self._allowed = tools_of(self._toolsets)

    def allowed(self) -> frozenset[str]:
        header = get_http_headers(include={HEADER}).get(HEADER, "")[:MAX_HEADER_CHARS]
        if not header:
            return self._allowed
        return self._allowed & tools_of(parse_toolsets(header, strict=False))

    async def on_list_tools(
        self,
        context: MiddlewareContext[mcp_types.ListToolsRequest],
        call_next: CallNext[mcp_types.ListToolsRequest, Sequence[Tool]],
    ) -> Sequence[Tool]:
        tools = await call_next(context)
        allowed = self.allowed()
        return [t for t in tools if t.name in allowed]

    async def on_call_tool(
        self,
        context: MiddlewareContext[mcp_types.CallToolRequestParams],
        call_next: CallNext[mcp_types.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        if context.message.name not in self.allowed():
            # Answers exactly like a tool that does not exist.
            raise NotFoundError(f"Unknown tool: {context.message.name[:100]!r}")
        return await call_next(context)
