"""Coordination values: agent presence and lock leases, and the bounds on their inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared_context.domain.bounds import (
    LOCK_TTL_SECONDS,
    LOCK_TYPE_MAX_CHARS,
    PRESENCE_WITHIN_SECONDS,
    RESOURCE_MAX_CHARS,
)
from shared_context.domain.clock import iso
from shared_context.domain.errors import InvalidInput

SESSION_WRITE_RESOURCE = ""
"""The resource name of a session's write lock; named resources are advisory leases."""

TTL_MIN_SECONDS, TTL_MAX_SECONDS = LOCK_TTL_SECONDS
WITHIN_MIN_SECONDS, WITHIN_MAX_SECONDS = PRESENCE_WITHIN_SECONDS


class PresenceStatus(StrEnum):
    ACTIVE = "active"
    BUSY = "busy"
    IDLE = "idle"
    OFFLINE = "offline"


class LockAction(StrEnum):
    LOCK = "lock"
    UNLOCK = "unlock"
    RENEW = "renew"
    STATUS = "status"


def parse_status(value: object) -> PresenceStatus:
    try:
        return PresenceStatus(str(value))
    except ValueError as exc:
        raise InvalidInput(
            f"status must be one of active, busy, idle, offline; got {str(value)[:30]!r}."
        ) from exc


def parse_action(value: object) -> LockAction:
    try:
        return LockAction(str(value))
    except ValueError as exc:
        raise InvalidInput(
            f"action must be one of lock, unlock, renew, status; got {str(value)[:30]!r}."
        ) from exc


def check_resource(value: object) -> str:
    if value is None:
        return SESSION_WRITE_RESOURCE
    if not isinstance(value, str) or len(value) > RESOURCE_MAX_CHARS:
        raise InvalidInput(f"resource must be a string of at most {RESOURCE_MAX_CHARS} chars.")
    if value and not value.strip():
        raise InvalidInput("resource must not be blank; omit it for the session write lock.")
    if any(ord(ch) < 32 for ch in value):
        raise InvalidInput("resource must not contain control characters.")
    return value


def check_lock_type(value: object) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= LOCK_TYPE_MAX_CHARS
        or not value.replace("_", "").replace("-", "").isalnum()
    ):
        raise InvalidInput(
            f"lock_type must be 1-{LOCK_TYPE_MAX_CHARS} letters, digits, '_' or '-' (e.g. 'write')."
        )
    return value


@dataclass(frozen=True, slots=True)
class Lease:
    session_id: str
    resource: str
    lock_type: str
    holder: str
    holder_type: str
    acquired_at: float
    expires_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "resource": self.resource or None,
            "lock_type": self.lock_type,
            "holder": self.holder,
            "holder_type": self.holder_type,
            "acquired_at": iso(self.acquired_at),
            "expires_at": iso(self.expires_at),
        }


@dataclass(frozen=True, slots=True)
class Presence:
    agent_id: str
    agent_type: str
    status: PresenceStatus
    session_id: str | None
    last_seen: float
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "agent_type": self.agent_type,
            "status": self.status.value,
            "session_id": self.session_id,
            "last_seen": iso(self.last_seen),
            "metadata": self.metadata,
        }


@dataclass(frozen=True, slots=True)
class LockOutcome:
    """What a lock write did: the lease now in force (None when released) and the one before."""

    lease: Lease | None
    previous: Lease | None = None
