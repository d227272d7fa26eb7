"""create_session, get_session, list_sessions, close_session."""

from __future__ import annotations

from typing import Annotated, Any

from fastmcp import FastMCP
from pydantic import Field

from shared_context.mcp.identity import caller
from shared_context.mcp.tools import AuthToken, Cursor, Metadata, SessionId, tool
from shared_context.services.container import Services


def register(mcp: FastMCP, app: Services) -> None:
    @tool(mcp, annotations={"title": "Create session"})
    async def create_session(
        purpose: Annotated[
            str, Field(description="What the session is for, 1-1000 chars.", max_length=5000)
        ],
        metadata: Metadata = None,
        auth_token: AuthToken = None,
    ) -> dict[str, Any]:
        """Open a new shared session; returns its session_id."""
        principal = await caller(app, auth_token)
        return await app.sessions.create(principal, purpose, metadata)

    @tool(mcp, annotations={"title": "Get session", "readOnlyHint": True})
    async def get_session(session_id: SessionId, auth_token: AuthToken = None) -> dict[str, Any]:
        """A session with the number of messages visible to you and its visible participants."""
        principal = await caller(app, auth_token)
        return await app.sessions.get(principal, session_id)

    @tool(mcp, annotations={"title": "List sessions", "readOnlyHint": True})
    async def list_sessions(
        active_only: bool = True,
        created_by: Annotated[str | None, Field(max_length=200)] = None,
        limit: Annotated[int, Field(description="1-500.")] = 50,
        cursor: Cursor = None,
        auth_token: AuthToken = None,
    ) -> dict[str, Any]:
        """Sessions, newest first, one page at a time."""
        principal = await caller(app, auth_token)
        return await app.sessions.list(
            principal, active_only=active_only, created_by=created_by, limit=limit, cursor=cursor
        )

    @tool(mcp, annotations={"title": "Close session"})
    async def close_session(session_id: SessionId, auth_token: AuthToken = None) -> dict[str, Any]:
        """Close a session (creator or admin): no further messages; its data is kept."""
        principal = await caller(app, auth_token)
        return await app.sessions.close(principal, session_id)
