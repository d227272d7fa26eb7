"""Typed results: one pydantic model per result shape of SPEC §14.

Tools declare these as their return types, so FastMCP publishes each tool's ``outputSchema``
and every structured result can be validated against it. The wire form is what these models
serialise to, field for field the shapes the service dicts always had: SPEC §14 lets fields be
added, never removed, so every model allows extra fields (``additionalProperties``) and the
figures blocks of the metrics report stay open objects.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Visibility = Literal["public", "private", "agent_only", "admin_only"]


class Shape(BaseModel):
    """An object on the wire; more fields may be added (SPEC §14)."""

    model_config = ConfigDict(extra="allow")


class Result(Shape):
    """A successful tool result."""

    success: Literal[True] = True


class MessageShape(Shape):
    id: int
    session_id: str
    sender: str
    sender_type: str
    content: str
    visibility: Visibility
    metadata: dict[str, Any] | None
    parent_message_id: int | None
    timestamp: str


class SessionShape(Shape):
    session_id: str
    purpose: str
    metadata: dict[str, Any] | None
    created_by: str
    created_at: str
    is_active: bool
    message_count: int | None = None


class Page(Result):
    count: int
    has_more: bool
    next_cursor: str | None


# --- identity -----------------------------------------------------------------------------
class TokenResult(Result):
    token: str
    agent_id: str
    agent_type: str
    permissions: list[str]
    expires_at: str | None
    token_type: str


# --- sessions and messages ----------------------------------------------------------------
class SessionCreated(Result):
    session_id: str
    created_by: str
    created_at: str


class SessionDetail(Result, SessionShape):
    session: SessionShape
    participants: list[str]


class SessionPage(Result):
    sessions: list[SessionShape]
    has_more: bool
    next_cursor: str | None


class SessionClosed(Result):
    session_id: str
    is_active: bool
    closed_at: str


class MessagePosted(Result):
    message_id: int
    session_id: str
    timestamp: str
    visibility: Visibility
    duplicate: bool


class MessagePage(Page):
    messages: list[MessageShape]


class VisibilityChanged(Result):
    message: MessageShape


# --- search -------------------------------------------------------------------------------
class SearchHit(Shape):
    message: MessageShape
    score: float
    match_preview: str
    matched_in: Literal["content", "metadata"]


class SearchResults(Result):
    results: list[SearchHit]
    count: int
    considered: int
    widened: bool
    search_time_ms: float


# --- memory -------------------------------------------------------------------------------
class MemoryWritten(Result):
    key: str
    scope: str
    session_id: str | None
    version: int
    expires_at: str | None
    created: bool
    size_bytes: int


class MemoryEntry(Result):
    key: str
    value: Any
    scope: str
    session_id: str | None
    version: int
    expires_at: str | None
    created_at: str | None
    updated_at: str | None
    metadata: dict[str, Any] | None
    size_bytes: int


class MemorySummary(Shape):
    key: str
    scope: str
    session_id: str | None
    version: int
    expires_at: str | None
    size_bytes: int
    updated_at: str | None = None


class MemoryPage(Page):
    entries: list[MemorySummary]


class MemoryDeleted(Result):
    key: str
    scope: str
    session_id: str | None
    deleted: bool
    version: int


# --- coordination -------------------------------------------------------------------------
class PresenceShape(Shape):
    agent_id: str
    agent_type: str
    status: Literal["active", "busy", "idle", "offline"]
    session_id: str | None
    last_seen: str | None
    metadata: dict[str, Any] | None = None


class PresenceResult(Result, PresenceShape):
    pass


class ActiveAgents(Result):
    agents: list[PresenceShape]
    count: int
    within_seconds: int


class LockResult(Result):
    action: Literal["lock", "unlock", "renew", "status"]
    session_id: str
    resource: str | None
    locked: bool
    holder: str | None
    lock_type: str | None
    acquired_at: str | None
    expires_at: str | None
    ttl_remaining_seconds: float | None


class WaitResult(Result):
    messages: list[MessageShape]
    count: int
    timed_out: bool
    last_id: int | None


# --- audit --------------------------------------------------------------------------------
class AuditEntry(Shape):
    id: int
    timestamp: str | None
    agent_id: str | None
    event_type: str
    session_id: str | None
    outcome: str
    details: dict[str, Any]


class AuditPage(Page):
    entries: list[AuditEntry]


class ActivitySummary(Result):
    agent_id: str | None
    hours: int
    since: str | None
    total_events: int
    by_event_type: dict[str, int]
    by_outcome: dict[str, int]
    by_agent: dict[str, int]
    sessions: int
    first_event_at: str | None
    last_event_at: str | None


# --- operations ---------------------------------------------------------------------------
class ToolFigures(Shape):
    calls: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


class Criterion(Shape):
    name: str
    value: float
    threshold: float
    triggered: bool


class Readiness(Shape):
    should_migrate: bool
    criteria: list[Criterion]


class MetricsReport(Result):
    tools: dict[str, ToolFigures]
    database: dict[str, Any]
    cache: dict[str, dict[str, Any]]
    coordination: dict[str, Any]
    totals: dict[str, Any]
    migration_readiness: Readiness


class Documentation(Result):
    format: Literal["json", "markdown", "openapi"]
    tool_count: int
    documentation: str | dict[str, Any]
