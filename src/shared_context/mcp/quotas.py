"""What "one connection" is, for the per-connection quotas of ``domain.quotas``.

- Streamable HTTP, handshake era: the MCP session (``Mcp-Session-Id``), however many TCP
  connections carry it.
- Streamable HTTP without a session (2026-07-28, each request stands alone): the TCP peer
  (address and port of the client's keep-alive connection).
- stdio or in-memory: the MCP connection object itself.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from fastmcp.server.dependencies import get_context


def connection_of(request: Any, connection: object) -> Hashable:
    headers = getattr(request, "headers", None)
    if headers is not None:
        session = headers.get("mcp-session-id")
        if session:
            return ("mcp-session", str(session)[:128])
        client = getattr(request, "client", None)
        if client is not None:
            return ("peer", str(client.host), int(client.port))
    return ("local", id(connection))


def connection_key() -> Hashable:
    """The current tool call's connection (see the module docstring)."""
    context = get_context()
    request_context = context.request_context
    if request_context is None:
        return ("local", id(context))
    session = request_context.session
    return connection_of(request_context.request, getattr(session, "_connection", session))
