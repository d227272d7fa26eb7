"""The nouns of the product, as immutable values passed between layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from shared_context.domain.clock import iso
from shared_context.domain.errors import InvalidInput
from shared_context.domain.permissions import Permission

#: A visibility as callers name it (the tools' argument type).
VisibilityName = Literal["public", "private", "agent_only", "admin_only"]


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    AGENT_ONLY = "agent_only"
    ADMIN_ONLY = "admin_only"


def parse_visibility(value: str) -> Visibility:
    """The one check of a visibility name (callers outside the tools, e.g. a dashboard form,
    pass plain strings)."""
    try:
        return Visibility(value)
    except ValueError as exc:
        raise InvalidInput(
            "visibility must be one of public, private, agent_only, admin_only; "
            f"got {str(value)[:30]!r}."
        ) from exc


def visibility_name(value: str) -> VisibilityName:
    return parse_visibility(value).value


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller: everything here comes from a checked token, never from arguments."""

    agent_id: str
    agent_type: str
    permissions: frozenset[Permission]
    key_id: str = ""
    token_id: str = ""
    expires_at: float = 0.0

    @property
    def is_admin(self) -> bool:
        return Permission.ADMIN in self.permissions


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    purpose: str
    metadata: dict[str, Any]
    created_by: str
    created_at: float
    is_active: bool
    seq: int = 0

    def to_dict(self, message_count: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "session_id": self.session_id,
            "purpose": self.purpose,
            "metadata": self.metadata,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "is_active": self.is_active,
        }
        if message_count is not None:
            out["message_count"] = message_count
        return out


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    session_id: str
    sender: str
    sender_type: str
    content: str
    visibility: Visibility
    metadata: dict[str, Any]
    parent_message_id: int | None
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "sender": self.sender,
            "sender_type": self.sender_type,
            "content": self.content,
            "visibility": self.visibility.value,
            "metadata": self.metadata,
            "parent_message_id": self.parent_message_id,
            "timestamp": iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class NewMessage:
    session_id: str
    sender: str
    sender_type: str
    content: str
    visibility: Visibility
    metadata: dict[str, Any]
    parent_message_id: int | None
    created_at: float
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    name: str
    permissions: frozenset[Permission]
    created_at: float
    revoked_at: float | None = None
    agents: tuple[str, ...] = ()  # binding (domain.bindings): empty = team key, any agent id

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "permissions": sorted(p.value for p in self.permissions),
            "created_at": iso(self.created_at),
            "revoked_at": iso(self.revoked_at),
            "agents": list(self.agents),
        }


@dataclass(frozen=True, slots=True)
class AuditEvent:
    event_type: str
    agent_id: str | None
    outcome: str
    session_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    timestamp: float = 0.0
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": iso(self.timestamp),
            "agent_id": self.agent_id,
            "event_type": self.event_type,
            "session_id": self.session_id,
            "outcome": self.outcome,
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """What a reader asks of one session's messages; the visibility filter is added by storage."""

    session_id: str
    limit: int = 50
    after_id: int | None = None
    before_id: int | None = None
    sender: str | None = None
    visibility: Visibility | None = None
    since: float | None = None
    until: float | None = None
    parent_message_id: int | None = None
    include_admin_only: bool = True
    newest_first: bool = False
