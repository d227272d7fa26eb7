"""Storage for coordination: agent presence rows and session lock leases.

Lock state lives only in the database, so it survives restarts and is shared by every
instance on one database. Every lock check compares ``expires_at`` with the caller's clock
inside the query: an expired lease counts as absent even before the sweep removes it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from shared_context.domain.coordination import Lease, LockOutcome, Presence, PresenceStatus
from shared_context.domain.models import AuditEvent

LOCK_COLUMNS = "session_id, resource, lock_type, holder, holder_type, acquired_at, expires_at"
PRESENCE_COLUMNS = "agent_id, agent_type, status, session_id, metadata, last_seen"


def lease_row(row: tuple[Any, ...]) -> Lease:
    """A ``LOCK_COLUMNS`` row (either backend) as a lease."""
    return Lease(*row)


def presence_row(row: tuple[Any, ...]) -> Presence:
    """A ``PRESENCE_COLUMNS`` row (either backend) as a presence."""
    return Presence(
        agent_id=row[0],
        agent_type=row[1],
        status=PresenceStatus(row[2]),
        session_id=row[3],
        metadata=json.loads(row[4]),
        last_seen=row[5],
    )


class CoordinationStore(Protocol):
    # --- presence -----------------------------------------------------------------------------
    async def upsert_presence(self, presence: Presence, audit: AuditEvent) -> None:
        """Record an agent's declared status (and refresh its last_seen)."""
        ...

    async def touch_presence(self, touches: Sequence[tuple[str, str, float]]) -> None:
        """Batched last-seen refresh: (agent_id, agent_type, last_seen) rows, one transaction.
        Unknown agents are inserted as ``active``; last_seen never moves backwards."""
        ...

    async def list_presence(
        self, *, seen_since: float, session_id: str | None, limit: int
    ) -> list[Presence]:
        """Agents whose stored last_seen >= seen_since (most recent first)."""
        ...

    async def get_presence(self, agent_ids: Sequence[str]) -> list[Presence]: ...

    async def count_presence(self, *, seen_since: float) -> int:
        """Agents not declared offline whose stored last_seen >= seen_since."""
        ...

    # --- locks --------------------------------------------------------------------------------
    async def acquire_lock(self, lease: Lease, now: float, audit: AuditEvent) -> LockOutcome:
        """Insert the lease, or take over one that has expired or is the holder's own.
        Raises Conflict(SESSION_LOCKED) with holder/expires_at when another agent holds it."""
        ...

    async def renew_lock(
        self,
        session_id: str,
        resource: str,
        holder: str,
        expires_at: float,
        now: float,
        audit: AuditEvent,
    ) -> Lease:
        """Extend the holder's live lease; Conflict(LOCK_NOT_HELD) otherwise."""
        ...

    async def release_lock(
        self, session_id: str, resource: str, holder: str | None, now: float, audit: AuditEvent
    ) -> Lease:
        """Delete the live lease (``holder=None``: whoever holds it, for a forced unlock).
        Raises Conflict(LOCK_NOT_HELD) when there is no live lease held by ``holder``."""
        ...

    async def get_lock(self, session_id: str, resource: str, now: float) -> Lease | None: ...

    async def list_locks(self, session_id: str, now: float, limit: int) -> list[Lease]: ...

    async def purge_expired_locks(self, now: float) -> int: ...

    async def count_live_locks(self, now: float) -> int: ...
