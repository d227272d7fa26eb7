"""set_memory, get_memory, list_memory, delete_memory: the caller's private memory."""

from __future__ import annotations

from typing import Annotated, Any

from fastmcp import FastMCP
from pydantic import Field

from shared_context.domain import bounds
from shared_context.mcp.identity import caller
from shared_context.mcp.tools import AuthToken, Cursor, Metadata, page_field, tool
from shared_context.services.container import Services
from shared_context.services.results import MemoryDeleted, MemoryEntry, MemoryPage, MemoryWritten

Key = Annotated[
    str,
    Field(
        description=f"Memory key, 1-{bounds.MEMORY_KEY_MAX_CHARS} characters, no whitespace or "
        "control characters. Compared exactly (case-sensitive, no Unicode normalisation).",
        max_length=bounds.MEMORY_KEY_MAX_CHARS,
    ),
]
ScopeSession = Annotated[
    str | None,
    Field(
        description="Session id for session-scoped memory (the session must exist); omit for "
        "global memory that follows you across sessions.",
        max_length=64,
    ),
]


def register(mcp: FastMCP, app: Services) -> None:
    @tool(mcp, annotations={"title": "Set memory"})
    async def set_memory(
        key: Key,
        value: Annotated[
            Any,
            Field(
                description="Any JSON value (object, array, string, number, boolean or null), "
                "at most 64 KiB serialised by default."
            ),
        ],
        session_id: ScopeSession = None,
        expires_in: Annotated[
            int | None,
            Field(
                description="Seconds until the entry expires, 1 to 31536000 (1 year); omit "
                "for no expiry.",
                strict=True,
            ),
        ] = None,
        metadata: Metadata = None,
        overwrite: Annotated[
            bool, Field(description="false: fail with KEY_EXISTS if the key already exists.")
        ] = True,
        if_version: Annotated[
            int | None,
            Field(
                description="Compare-and-set: write only if the entry is at this version "
                "(0: only if it does not exist); otherwise VERSION_CONFLICT.",
                strict=True,
            ),
        ] = None,
        auth_token: AuthToken = None,
    ) -> MemoryWritten:
        """Store a value in your private memory (global or per session); returns its version.
        Every write increases the version; use if_version for safe read-modify-write."""
        principal = await caller(app, auth_token)
        return await app.memory.set(
            principal,
            key,
            value,
            session_id=session_id,
            expires_in=expires_in,
            metadata=metadata,
            overwrite=overwrite,
            if_version=if_version,
        )

    @tool(mcp, annotations={"title": "Get memory", "readOnlyHint": True})
    async def get_memory(
        key: Key, session_id: ScopeSession = None, auth_token: AuthToken = None
    ) -> MemoryEntry:
        """Read one of your memory entries (MEMORY_NOT_FOUND when missing or expired)."""
        principal = await caller(app, auth_token)
        return await app.memory.get(principal, key, session_id=session_id)

    @tool(mcp, annotations={"title": "List memory", "readOnlyHint": True})
    async def list_memory(
        session_id: Annotated[
            str | None,
            Field(
                description="A session id for that session's entries, 'all' for every scope, "
                "or omit for global entries.",
                max_length=64,
            ),
        ] = None,
        prefix: Annotated[
            str | None,
            Field(
                description="Only keys starting with this (case-sensitive).",
                max_length=bounds.MEMORY_KEY_MAX_CHARS,
            ),
        ] = None,
        limit: Annotated[int, page_field(bounds.MEMORY_PAGE)] = 100,
        cursor: Cursor = None,
        auth_token: AuthToken = None,
    ) -> MemoryPage:
        """Your live memory entries (without values), oldest first, one page at a time."""
        principal = await caller(app, auth_token)
        return await app.memory.list(
            principal, session_id=session_id, prefix=prefix, limit=limit, cursor=cursor
        )

    @tool(mcp, annotations={"title": "Delete memory", "destructiveHint": True})
    async def delete_memory(
        key: Key, session_id: ScopeSession = None, auth_token: AuthToken = None
    ) -> MemoryDeleted:
        """Delete one of your memory entries (MEMORY_NOT_FOUND when missing or expired)."""
        principal = await caller(app, auth_token)
        return await app.memory.delete(principal, key, session_id=session_id)
