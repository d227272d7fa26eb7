"""search_context, search_by_sender, search_by_timerange."""

from __future__ import annotations

from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field

from shared_context.domain import bounds
from shared_context.mcp.identity import caller
from shared_context.mcp.tools import AuthToken, Cursor, SessionId, page_field, range_field, tool
from shared_context.services.container import Services
from shared_context.services.results import MessagePage, SearchResults


def register(mcp: FastMCP, app: Services) -> None:
    @tool(mcp, annotations={"title": "Search context", "readOnlyHint": True})
    async def search_context(
        session_id: SessionId,
        query: Annotated[
            str,
            Field(
                description=f"Plain text, 1-{bounds.QUERY_MAX_CHARS} chars; typos, reordered words "
                "and partial phrases match. Punctuation and operators are just characters.",
                max_length=bounds.QUERY_MAX_CHARS,
            ),
        ],
        fuzzy_threshold: Annotated[
            float, Field(description="Minimum similarity score, 0-100.")
        ] = 60,
        limit: Annotated[
            int, range_field(bounds.SEARCH_RESULTS, "Results to return, {low}-{high}.")
        ] = 10,
        search_scope: Annotated[
            Literal["all", "public", "private"],
            Field(
                description="all: everything you may see; public: public messages only; "
                "private: only your own private messages."
            ),
        ] = "all",
        search_metadata: Annotated[
            bool, Field(description="Also match the string values of message metadata.")
        ] = True,
        auth_token: AuthToken = None,
    ) -> SearchResults:
        """Fuzzy search of the messages you may see in a session, best match first, each with
        its score (0-100) and a preview of the matching text."""
        principal = await caller(app, auth_token)
        return await app.search.search_context(
            principal,
            session_id,
            query,
            fuzzy_threshold=fuzzy_threshold,
            limit=limit,
            search_scope=search_scope,
            search_metadata=search_metadata,
        )

    @tool(mcp, annotations={"title": "Search by sender", "readOnlyHint": True})
    async def search_by_sender(
        session_id: SessionId,
        sender: Annotated[
            str, Field(description="The sender's agent_id.", max_length=bounds.AGENT_ID_MAX_CHARS)
        ],
        limit: Annotated[int, page_field(bounds.SENDER_PAGE)] = 20,
        cursor: Cursor = None,
        auth_token: AuthToken = None,
    ) -> MessagePage:
        """Messages you may see from one sender, oldest first, with has_more and next_cursor."""
        principal = await caller(app, auth_token)
        return await app.search.by_sender(principal, session_id, sender, limit, cursor)

    @tool(mcp, annotations={"title": "Search by time range", "readOnlyHint": True})
    async def search_by_timerange(
        session_id: SessionId,
        start_time: Annotated[
            str, Field(description="ISO 8601 date-time, inclusive.", max_length=64)
        ],
        end_time: Annotated[
            str, Field(description="ISO 8601 date-time, inclusive.", max_length=64)
        ],
        limit: Annotated[int, page_field(bounds.TIMERANGE_PAGE)] = 50,
        cursor: Cursor = None,
        auth_token: AuthToken = None,
    ) -> MessagePage:
        """Messages you may see posted between two instants (both inclusive), oldest first,
        with has_more and next_cursor."""
        principal = await caller(app, auth_token)
        return await app.search.by_timerange(
            principal, session_id, start_time, end_time, limit, cursor
        )
