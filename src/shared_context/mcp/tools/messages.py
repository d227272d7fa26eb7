"""add_message, get_messages, get_messages_advanced, set_message_visibility."""

from __future__ import annotations

from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field

from shared_context.domain import bounds
from shared_context.mcp.identity import caller
from shared_context.mcp.tools import AuthToken, Cursor, Metadata, SessionId, page_field, tool
from shared_context.services.container import Services
from shared_context.services.results import MessagePage, MessagePosted, VisibilityChanged

VisibilityArg = Literal["public", "private", "agent_only", "admin_only"]


def register(mcp: FastMCP, app: Services) -> None:
    @tool(mcp, annotations={"title": "Add message"})
    async def add_message(
        session_id: SessionId,
        content: Annotated[str, Field(description="Message text (1-10,000 chars by default).")],
        visibility: Annotated[
            VisibilityArg,
            Field(
                description="public: everyone; private: only you; agent_only: agents of your "
                "agent_type; admin_only: admins (posting needs admin)."
            ),
        ] = "public",
        metadata: Metadata = None,
        parent_message_id: Annotated[
            int | None, Field(description="Reply to this message.")
        ] = None,
        idempotency_key: Annotated[
            str | None,
            Field(
                description="Retry-safe key: a repeat returns the first result.",
                max_length=bounds.IDEMPOTENCY_KEY_MAX_CHARS,
            ),
        ] = None,
        auth_token: AuthToken = None,
    ) -> MessagePosted:
        """Post a message to a session."""
        principal = await caller(app, auth_token)
        return await app.messages.add(
            principal,
            session_id,
            content,
            visibility,
            metadata,
            parent_message_id,
            idempotency_key,
        )

    @tool(mcp, annotations={"title": "Get messages", "readOnlyHint": True})
    async def get_messages(
        session_id: SessionId,
        limit: Annotated[int, page_field(bounds.MESSAGE_PAGE)] = 50,
        cursor: Cursor = None,
        offset: Annotated[int | None, Field(description="Skip this many (prefer cursor).")] = None,
        since_id: Annotated[
            int | None, Field(description="Only messages with id > since_id.")
        ] = None,
        auth_token: AuthToken = None,
    ) -> MessagePage:
        """Messages you may see, oldest first, with has_more and next_cursor."""
        principal = await caller(app, auth_token)
        return await app.messages.get(
            principal, session_id, limit=limit, cursor=cursor, offset=offset, since_id=since_id
        )

    @tool(mcp, annotations={"title": "Get messages (filtered)", "readOnlyHint": True})
    async def get_messages_advanced(
        session_id: SessionId,
        include_admin_only: bool = False,
        sender: Annotated[str | None, Field(max_length=bounds.AGENT_ID_MAX_CHARS)] = None,
        visibility: VisibilityArg | None = None,
        since: Annotated[
            str | None, Field(description="ISO 8601, inclusive.", max_length=64)
        ] = None,
        until: Annotated[
            str | None, Field(description="ISO 8601, inclusive.", max_length=64)
        ] = None,
        parent_message_id: int | None = None,
        limit: Annotated[int, page_field(bounds.MESSAGE_PAGE)] = 50,
        cursor: Cursor = None,
        auth_token: AuthToken = None,
    ) -> MessagePage:
        """Messages filtered by sender, visibility, time range or parent; admin_only messages
        only with include_admin_only (admins)."""
        principal = await caller(app, auth_token)
        return await app.messages.get_advanced(
            principal,
            session_id,
            include_admin_only=include_admin_only,
            sender=sender,
            visibility=visibility,
            since=since,
            until=until,
            parent_message_id=parent_message_id,
            limit=limit,
            cursor=cursor,
        )

    @tool(mcp, annotations={"title": "Set message visibility"})
    async def set_message_visibility(
        session_id: SessionId,
        message_id: int,
        visibility: VisibilityArg,
        auth_token: AuthToken = None,
    ) -> VisibilityChanged:
        """Change a message's visibility (its sender or an admin)."""
        principal = await caller(app, auth_token)
        return await app.messages.set_visibility(principal, session_id, message_id, visibility)
