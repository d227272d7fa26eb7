"""Domain values for contract tests."""

from __future__ import annotations

from typing import Any

from shared_context.domain.ids import new_session_id
from shared_context.domain.models import (
    AuditEvent,
    NewMessage,
    Principal,
    Session,
    Visibility,
)
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS

NOW = 1_800_000_000.0


def principal(agent_id: str, agent_type: str = "claude", *, admin: bool = False) -> Principal:
    return Principal(agent_id, agent_type, ALL_PERMISSIONS if admin else AGENT_CEILING)


def audit(
    event_type: str, agent_id: str | None = "alice", session_id: str | None = None
) -> AuditEvent:
    return AuditEvent(event_type, agent_id, "success", session_id, {"k": 1}, NOW)


def session(created_by: str = "alice", **overrides: Any) -> Session:
    values: dict[str, Any] = {
        "session_id": new_session_id(),
        "purpose": "contract",
        "metadata": {"team": "blue", "n": 1},
        "created_by": created_by,
        "created_at": NOW,
        "is_active": True,
    }
    values.update(overrides)
    return Session(**values)


def message(
    session_id: str,
    content: str = "hello",
    *,
    sender: str = "alice",
    sender_type: str = "claude",
    visibility: Visibility = Visibility.PUBLIC,
    parent: int | None = None,
    key: str | None = None,
    at: float = NOW,
    metadata: dict[str, Any] | None = None,
) -> NewMessage:
    return NewMessage(
        session_id=session_id,
        sender=sender,
        sender_type=sender_type,
        content=content,
        visibility=visibility,
        metadata=metadata or {},
        parent_message_id=parent,
        created_at=at,
        idempotency_key=key,
    )
