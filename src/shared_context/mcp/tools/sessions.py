"""create_session, get_session, list_sessions, close_session."""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from pydantic import Field

from shared_context.domain import bounds
from shared_context.mcp.identity import caller
from shared_context.mcp.tools import AuthToken, Cursor, Metadata, SessionId, page_field, tool
from shared_context.services.container import Services
from shared_context.services.results import (
    SessionClosed,
    SessionCreated,
    SessionDetail,
    SessionPage,
)


def register(mcp: FastMCP, app: Services) -> None:
    @tool(mcp, annotations={"title": "Create session"})
    async def create_session(
        purpose: Annotated[
            str,
            Field(
                description=f"What the session is for, 1-{bounds.PURPOSE_MAX_CHARS} chars.",
                max_length=bounds.PURPOSE_MAX_CHARS,
            ),
        ],
        metadata: Metadata = None,
        auth_token: AuthToken = None,
    ) -> SessionCreated:
        """Open a new shared session; returns its session_id."""
        principal = await caller(app, auth_token)
        return await app.sessions.create(principal, purpose, metadata)

    @tool(mcp, annotations={"title": "Get session", "readOnlyHint": True})
    async def get_session(session_id: SessionId, auth_token: AuthToken = None) -> SessionDetail:
        """A session with the number of messages visible to you and its visible participants."""
        principal = await caller(app, auth_token)
        return await app.sessions.get(principal, session_id)

    @tool(mcp, annotations={"title": "List sessions", "readOnlyHint": True})
    async def list_sessions(
        active_only: bool = True,
        created_by: Annotated[str | None, Field(max_length=bounds.AGENT_ID_MAX_CHARS)] = None,
        limit: Annotated[int, page_field(bounds.SESSION_PAGE)] = 50,
        cursor: Cursor = None,
        auth_token: AuthToken = None,
    ) -> SessionPage:
        """Sessions, newest first, one page at a time."""
        principal = await caller(app, auth_token)
        return await app.sessions.list(
            principal,
            active_only=active_only,
            created_by=created_by,
            limit=limit,
            cursor=cursor,
        )

    @tool(mcp, annotations={"title": "Close session"})
    async def close_session(session_id: SessionId, auth_token: AuthToken = None) -> SessionClosed:
        """Close a session (creator or admin): no further messages; its data is kept."""
        principal = await caller(app, auth_token)
        return await app.sessions.close(principal, session_id)
