"""get_audit_log, get_agent_activity_summary: who did what (admins: everyone; others: self)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field

from shared_context.domain import bounds
from shared_context.mcp.identity import caller
from shared_context.mcp.tools import AuthToken, Cursor, page_field, range_field, tool
from shared_context.services.container import Services
from shared_context.services.results import ActivitySummary, AuditPage

AgentFilter = Annotated[
    str | None,
    Field(
        description="Only this agent's events (non-admins only ever see their own).",
        max_length=bounds.AGENT_ID_MAX_CHARS,
    ),
]


def register(mcp: FastMCP, app: Services) -> None:
    @tool(mcp, annotations={"title": "Get audit log", "readOnlyHint": True})
    async def get_audit_log(
        session_id: Annotated[
            str | None, Field(description="Only events of this session.", max_length=64)
        ] = None,
        agent_id: AgentFilter = None,
        event_type: Annotated[
            str | None,
            Field(description="Only this event type, e.g. set_memory.", max_length=64),
        ] = None,
        since: Annotated[
            str | None, Field(description="ISO 8601; events at or after it.", max_length=64)
        ] = None,
        limit: Annotated[int, page_field(bounds.AUDIT_PAGE)] = 100,
        cursor: Cursor = None,
        order: Annotated[
            Literal["desc", "asc"], Field(description="desc: newest first; asc: oldest first.")
        ] = "desc",
        auth_token: AuthToken = None,
    ) -> AuditPage:
        """Audit events (time, agent, event, session, outcome, details). Admins see every
        agent's events; everyone else only their own."""
        principal = await caller(app, auth_token)
        return await app.audit_log.get_log(
            principal,
            session_id=session_id,
            agent_id=agent_id,
            event_type=event_type,
            since=since,
            limit=limit,
            cursor=cursor,
            order=order,
        )

    @tool(mcp, annotations={"title": "Agent activity summary", "readOnlyHint": True})
    async def get_agent_activity_summary(
        agent_id: AgentFilter = None,
        hours: Annotated[
            int, range_field(bounds.SUMMARY_HOURS, "Look back this many hours, {low}-{high}.")
        ] = 24,
        auth_token: AuthToken = None,
    ) -> ActivitySummary:
        """Counts of audit events by type and outcome over the last hours (admins: any agent
        or all agents; everyone else: themselves)."""
        principal = await caller(app, auth_token)
        return await app.audit_log.summary(principal, agent_id=agent_id, hours=hours)
