"""Typed results: one pydantic model per result shape of SPEC §14.

Tools declare these as their return types, so FastMCP publishes each tool's ``outputSchema``
and every structured result can be validated against it. The wire form is what these models
serialise to, field for field the shapes the service dicts always had: SPEC §14 lets fields be
added, never removed, so every model allows extra fields and the figures blocks of the metrics
report stay open objects (published with ``additionalProperties`` at its default, true:
``mcp/schemas.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared_context.domain.clock import iso
from shared_context.domain.coordination import Lease, Presence
from shared_context.domain.models import AuditEvent, Message, Session
from shared_context.domain.validation import encode_cursor

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


class LockShape(Shape):
    """One live lease, as the session resource and the dashboard list them."""

    session_id: str
    resource: str | None
    lock_type: str
    holder: str
    holder_type: str
    acquired_at: str | None
    expires_at: str | None


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
class MemorySnapshot(Shape):
    """The ``agent://{id}/memory`` resource: entries carry ``value`` or ``value_omitted``."""

    agent_id: str
    entries: list[MemorySummary]
    truncated: bool


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


# --- building results from domain rows ----------------------------------------------------
def message_shape(m: Message) -> MessageShape:
    return MessageShape(
        id=m.id,
        session_id=m.session_id,
        sender=m.sender,
        sender_type=m.sender_type,
        content=m.content,
        visibility=m.visibility.value,
        metadata=m.metadata,
        parent_message_id=m.parent_message_id,
        timestamp=iso(m.created_at),
    )


def message_page(
    found: list[Message], more: bool, shape: Callable[[Message], MessageShape] = message_shape
) -> MessagePage:
    """A page of ``found``; ``shape`` renders each message (the read cache passes its shared,
    already rendered shapes: services/read_cache.py)."""
    return MessagePage(
        messages=[shape(m) for m in found],
        count=len(found),
        has_more=more,
        next_cursor=encode_cursor(found[-1].id) if more and found else None,
    )


def session_shape(s: Session, message_count: int | None = None) -> SessionShape:
    return SessionShape(
        session_id=s.session_id,
        purpose=s.purpose,
        metadata=s.metadata,
        created_by=s.created_by,
        created_at=iso(s.created_at),
        is_active=s.is_active,
        message_count=message_count,
    )


def presence_shape(p: Presence) -> PresenceShape:
    return PresenceShape(
        agent_id=p.agent_id,
        agent_type=p.agent_type,
        status=p.status.value,
        session_id=p.session_id,
        last_seen=iso(p.last_seen),
        metadata=p.metadata,
    )


def lock_shape(lease: Lease) -> LockShape:
    return LockShape(
        session_id=lease.session_id,
        resource=lease.resource or None,
        lock_type=lease.lock_type,
        holder=lease.holder,
        holder_type=lease.holder_type,
        acquired_at=iso(lease.acquired_at),
        expires_at=iso(lease.expires_at),
    )


def audit_entry(e: AuditEvent) -> AuditEntry:
    return AuditEntry(
        id=e.id,
        timestamp=iso(e.timestamp),
        agent_id=e.agent_id,
        event_type=e.event_type,
        session_id=e.session_id,
        outcome=e.outcome,
        details=e.details,
    )
