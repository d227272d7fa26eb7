"""The storage interface for agent memory (SQLite: ``sqlite/memory.py``).

Every lookup is keyed by owner, scope and key; ``scope`` is ``""`` for global entries and the
session id otherwise. Reads take ``now`` and never return an entry whose ``expires_at`` is at
or before it, whether or not the sweeper has removed it yet.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Protocol

from shared_context.domain.memory import MemoryEntry, MemoryWrite
from shared_context.domain.models import AuditEvent

COLUMNS = (
    "id, agent_id, scope, key, value, metadata, size_bytes, version, created_at, updated_at, "
    "expires_at"
)
LIVE = "(expires_at IS NULL OR expires_at > ?)"


def entry(row: sqlite3.Row | tuple[Any, ...]) -> MemoryEntry:
    """A ``COLUMNS`` row (either backend) as an entry."""
    return MemoryEntry(
        id=row[0],
        agent_id=row[1],
        session_id=row[2] or None,
        key=row[3],
        value_json=row[4],
        metadata=json.loads(row[5]),
        size_bytes=row[6],
        version=row[7],
        created_at=row[8],
        updated_at=row[9],
        expires_at=row[10],
    )


def is_live(row: sqlite3.Row | tuple[Any, ...] | None, now: float) -> bool:
    return row is not None and (row[10] is None or row[10] > now)


class MemoryStore(Protocol):
    async def put(self, write: MemoryWrite, audit: AuditEvent) -> tuple[MemoryEntry, bool]:
        """Create or replace an entry in one write transaction, after checking overwrite,
        if_version and the owner's quotas (raising Conflict / LimitExceeded, storing nothing).
        Returns the stored entry and whether it was created (False: replaced)."""
        ...

    async def get(self, agent_id: str, scope: str, key: str, now: float) -> MemoryEntry | None: ...

    async def list(
        self,
        agent_id: str,
        scope: str | None,
        *,
        prefix: str | None,
        after_id: int | None,
        limit: int,
        now: float,
        with_values: bool = False,
    ) -> list[MemoryEntry]:
        """Live entries of one owner in id order; ``scope`` None means every scope. Without
        ``with_values`` the entries' ``value_json`` is empty (listing never needs it)."""
        ...

    async def delete(
        self, agent_id: str, scope: str, key: str, now: float, audit: AuditEvent
    ) -> MemoryEntry | None:
        """Delete a live entry (None when there is none; nothing is recorded then)."""
        ...

    async def sweep(self, now: float, batch: int) -> int:
        """Delete at most ``batch`` expired entries in one transaction; return how many."""
        ...

    async def count(self, now: float) -> int:
        """Live entries of every owner (for metrics)."""
        ...
