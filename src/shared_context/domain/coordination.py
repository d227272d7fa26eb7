"""Coordination values: agent presence and lock leases, and the bounds on their inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from shared_context.domain.bounds import (
    LOCK_TTL_SECONDS,
    LOCK_TYPE_MAX_CHARS,
    PRESENCE_WITHIN_SECONDS,
    RESOURCE_MAX_CHARS,
)
from shared_context.domain.clock import iso
from shared_context.domain.errors import Conflict, ErrorCode, InvalidInput, session_not_found

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


#: The names callers use (the tools' argument types); parse_* turn them into the enums.
PresenceStatusName = Literal["active", "busy", "idle", "offline"]
LockActionName = Literal["lock", "unlock", "renew", "status"]


def parse_status(value: str) -> PresenceStatus:
    try:
        return PresenceStatus(str(value))
    except ValueError as exc:
        raise InvalidInput(
            f"status must be one of active, busy, idle, offline; got {str(value)[:30]!r}."
        ) from exc


def parse_action(value: str) -> LockAction:
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


# --- rules decided over rows the adapters fetch (inside their write transaction) ------------
def check_session_writable(
    session_id: str, is_active: bool | None, write_lock: tuple[str, float] | None
) -> None:
    """May a message be added? ``is_active`` is None when the session does not exist;
    ``write_lock`` is (holder, expires_at) of a live ``write`` lease held by another agent."""
    if is_active is None:
        raise session_not_found(session_id)
    if not is_active:
        raise Conflict(
            "The session is closed; no further messages can be added. Create a new session.",
            code=ErrorCode.SESSION_LOCKED,
            details={"reason": "closed"},
        )
    if write_lock is not None:
        holder, expires_at = write_lock
        raise Conflict(
            f"{holder} holds the session write lock until {iso(expires_at)}; messages from "
            "other agents are refused until it is released or expires.",
            code=ErrorCode.SESSION_LOCKED,
            details={"holder": holder, "expires_at": iso(expires_at), "reason": "locked"},
        )


def locked_error(lease: Lease) -> Conflict:
    """The refusal when another agent's live lease stands in the way."""
    what = f"resource {lease.resource!r}" if lease.resource else "the session write lock"
    return Conflict(
        f"{lease.holder} holds {what} until {iso(lease.expires_at)}. Wait for it to be "
        "released or to expire, then try again.",
        code=ErrorCode.SESSION_LOCKED,
        details={
            "holder": lease.holder,
            "expires_at": iso(lease.expires_at),
            "lock_type": lease.lock_type,
            "resource": lease.resource or None,
        },
    )


def not_held_error(resource: str) -> Conflict:
    what = f"resource {resource!r}" if resource else "the session write lock"
    return Conflict(
        f"You do not hold {what} (it is free, expired or held by another agent).",
        code=ErrorCode.LOCK_NOT_HELD,
    )
