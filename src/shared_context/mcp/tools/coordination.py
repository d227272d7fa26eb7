"""register_agent_presence, get_active_agents, coordinate_session_work, wait_for_messages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field

from shared_context.domain import bounds
from shared_context.mcp.identity import caller
from shared_context.mcp.quotas import connection_key
from shared_context.mcp.tools import AuthToken, Metadata, SessionId, range_field, tool
from shared_context.services.container import Services
from shared_context.services.results import ActiveAgents, LockResult, PresenceResult, WaitResult


def register(mcp: FastMCP, app: Services) -> None:
    coordination = app.coordination

    @tool(mcp, annotations={"title": "Register agent presence"})
    async def register_agent_presence(
        status: Annotated[
            Literal["active", "busy", "idle", "offline"],
            Field(description="Your current status; 'offline' removes you from active lists."),
        ] = "active",
        session_id: Annotated[
            str | None, Field(description="The session you are working in.", max_length=64)
        ] = None,
        metadata: Metadata = None,
        auth_token: AuthToken = None,
    ) -> PresenceResult:
        """Announce your status (and optionally the session you work in) to other agents."""
        principal = await caller(app, auth_token)
        return await coordination.presence.register(principal, status, session_id, metadata)

    @tool(mcp, annotations={"title": "Get active agents", "readOnlyHint": True})
    async def get_active_agents(
        session_id: Annotated[
            str | None,
            Field(description="Only agents that registered in this session.", max_length=64),
        ] = None,
        within_seconds: Annotated[
            int,
            range_field(
                bounds.PRESENCE_WITHIN_SECONDS, "Seen within this many seconds ({low}-{high})."
            ),
        ] = 300,
        auth_token: AuthToken = None,
    ) -> ActiveAgents:
        """Agents seen recently (any authenticated call counts), with status and last_seen."""
        principal = await caller(app, auth_token)
        return await coordination.presence.active(principal, session_id, within_seconds)

    @tool(mcp, annotations={"title": "Coordinate session work"})
    async def coordinate_session_work(
        session_id: SessionId,
        action: Annotated[
            Literal["lock", "unlock", "renew", "status"],
            Field(description="lock (or re-lock to renew), unlock, renew, or status."),
        ] = "lock",
        lock_type: Annotated[
            str,
            Field(
                description="'write' (default): while held, other agents cannot add messages "
                "to the session. Other types are advisory.",
                max_length=bounds.LOCK_TYPE_MAX_CHARS,
            ),
        ] = "write",
        ttl_seconds: Annotated[
            int,
            range_field(
                bounds.LOCK_TTL_SECONDS, "Lease length, {low}-{high} s; renew before it runs out."
            ),
        ] = 300,
        resource: Annotated[
            str | None,
            Field(
                description="A named advisory lease inside the session (e.g. a file path); "
                "omit for the session lock.",
                max_length=bounds.RESOURCE_MAX_CHARS,
            ),
        ] = None,
        force: Annotated[bool, Field(description="Admins only: unlock whoever holds it.")] = False,
        auth_token: AuthToken = None,
    ) -> LockResult:
        """Take, renew, release or inspect a lease on a session (or a named resource in it).
        A held lock answers SESSION_LOCKED with the holder and expires_at."""
        principal = await caller(app, auth_token)
        return await coordination.locks.coordinate(
            principal, session_id, action, lock_type, ttl_seconds, resource, force
        )

    @tool(mcp, annotations={"title": "Wait for messages", "readOnlyHint": True})
    async def wait_for_messages(
        session_id: SessionId,
        after_id: Annotated[
            int | None,
            Field(
                description="Return messages with id > after_id (use the last id you saw). "
                "Omit to wait only for messages posted from now on.",
            ),
        ] = None,
        timeout_seconds: Annotated[
            float,
            range_field(
                bounds.WAIT_TIMEOUT_SECONDS,
                "Longest wait, {low}-{high} s; returns timed_out=true then.",
            ),
        ] = 30,
        limit: Annotated[
            int, range_field(bounds.WAIT_PAGE, "Most messages returned, {low}-{high}.")
        ] = 50,
        auth_token: AuthToken = None,
    ) -> WaitResult:
        """Block until a message you may see exists after after_id, or the timeout passes.
        Use this instead of polling get_messages."""
        principal = await caller(app, auth_token)
        return await coordination.waits.wait(
            principal, session_id, after_id, timeout_seconds, limit, connection=connection_key()
        )
