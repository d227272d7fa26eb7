"""PostgreSQL implementation of ``storage.coordination.CoordinationStore``.

A lock is a lease row. ``acquire_lock`` is one upsert: insert the lease, or on conflict
replace the existing row only ``WHERE`` it has expired or belongs to the same holder. Racing
acquirers — on any instance — are ordered by the row (or unique-index) lock, and the loser's
``WHERE`` sees the winner's committed lease and updates nothing: exactly one wins. Expiry is
compared with the caller's clock, as on SQLite, so expired leases count as absent before the
sweep removes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared_context.domain.coordination import (
    Lease,
    LockOutcome,
    Presence,
    locked_error,
    not_held_error,
)
from shared_context.domain.models import AuditEvent
from shared_context.domain.validation import dumps
from shared_context.storage.coordination import LOCK_COLUMNS, PRESENCE_COLUMNS
from shared_context.storage.coordination import lease_row as _lease
from shared_context.storage.coordination import presence_row as _presence
from shared_context.storage.postgres.sql import pg
from shared_context.storage.postgres.store import PostgresStore, affected, insert_audit

_UPSERT_LEASE = (
    f"INSERT INTO session_locks AS l ({LOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (session_id, resource) DO UPDATE SET "
    "lock_type = excluded.lock_type, holder = excluded.holder, "
    "holder_type = excluded.holder_type, "
    # The holder re-locking its live lease renews it: the original acquisition time stays.
    "acquired_at = CASE WHEN l.holder = excluded.holder AND l.expires_at > ? "
    "THEN l.acquired_at ELSE excluded.acquired_at END, "
    "expires_at = excluded.expires_at "
    "WHERE l.expires_at <= ? OR l.holder = excluded.holder "
    f"RETURNING {', '.join('l.' + c for c in LOCK_COLUMNS.split(', '))}"
)


async def live_lease(conn: Any, session_id: str, resource: str, now: float) -> Lease | None:
    row = await conn.fetchrow(
        pg(
            f"SELECT {LOCK_COLUMNS} FROM session_locks "
            "WHERE session_id = ? AND resource = ? AND expires_at > ?"
        ),
        session_id,
        resource,
        now,
    )
    return _lease(tuple(row)) if row else None


class PostgresCoordinationStore:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    # --- presence -----------------------------------------------------------------------------
    async def upsert_presence(self, presence: Presence, audit: AuditEvent) -> None:
        async with self._store.transaction() as conn:
            await conn.execute(
                pg(
                    f"INSERT INTO agent_presence AS p ({PRESENCE_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (agent_id) DO UPDATE SET agent_type = excluded.agent_type, "
                    "status = excluded.status, session_id = excluded.session_id, "
                    "metadata = excluded.metadata, "
                    "last_seen = GREATEST(p.last_seen, excluded.last_seen)"
                ),
                presence.agent_id,
                presence.agent_type,
                presence.status.value,
                presence.session_id,
                dumps(presence.metadata),
                presence.last_seen,
            )
            await insert_audit(conn, audit)

    async def touch_presence(self, touches: Sequence[tuple[str, str, float]]) -> None:
        rows = list(touches)
        if not rows:
            return
        async with self._store.transaction() as conn:
            await conn.executemany(
                pg(
                    "INSERT INTO agent_presence AS p (agent_id, agent_type, status, last_seen) "
                    "VALUES (?, ?, 'active', ?) ON CONFLICT (agent_id) DO UPDATE SET "
                    "agent_type = excluded.agent_type, "
                    "last_seen = GREATEST(p.last_seen, excluded.last_seen)"
                ),
                # One order for every batch: concurrent batches on several instances then
                # lock rows in the same order and cannot deadlock.
                sorted(rows),
            )

    async def list_presence(
        self, *, seen_since: float, session_id: str | None, limit: int
    ) -> list[Presence]:
        where = "last_seen >= ?"
        params: list[Any] = [seen_since]
        if session_id is not None:
            where += " AND session_id = ?"
            params.append(session_id)
        sql = (
            f"SELECT {PRESENCE_COLUMNS} FROM agent_presence WHERE {where} "
            "ORDER BY last_seen DESC, agent_id LIMIT ?"
        )
        params.append(limit)
        async with self._store.connection() as conn:
            found = await conn.fetch(pg(sql), *params)
        return [_presence(tuple(r)) for r in found]

    async def get_presence(self, agent_ids: Sequence[str]) -> list[Presence]:
        ids = list(agent_ids)
        if not ids:
            return []
        async with self._store.connection() as conn:
            found = await conn.fetch(
                pg(f"SELECT {PRESENCE_COLUMNS} FROM agent_presence WHERE agent_id = ANY(?)"), ids
            )
        return [_presence(tuple(r)) for r in found]

    async def count_presence(self, *, seen_since: float) -> int:
        async with self._store.connection() as conn:
            count = await conn.fetchval(
                pg(
                    "SELECT COUNT(*) FROM agent_presence "
                    "WHERE last_seen >= ? AND status != 'offline'"
                ),
                seen_since,
            )
        return int(count)

    # --- locks --------------------------------------------------------------------------------
    async def acquire_lock(self, lease: Lease, now: float, audit: AuditEvent) -> LockOutcome:
        async with self._store.transaction() as conn:
            row = await conn.fetchrow(
                pg(
                    f"SELECT {LOCK_COLUMNS} FROM session_locks "
                    "WHERE session_id = ? AND resource = ? FOR UPDATE"
                ),
                lease.session_id,
                lease.resource,
            )
            previous = _lease(tuple(row)) if row else None
            granted = await conn.fetchrow(
                pg(_UPSERT_LEASE),
                lease.session_id,
                lease.resource,
                lease.lock_type,
                lease.holder,
                lease.holder_type,
                lease.acquired_at,
                lease.expires_at,
                now,
                now,
            )
            if granted is None:
                holder = await live_lease(conn, lease.session_id, lease.resource, now)
                raise locked_error(holder or lease)
            await insert_audit(conn, audit)
        return LockOutcome(_lease(tuple(granted)), previous)

    async def renew_lock(
        self,
        session_id: str,
        resource: str,
        holder: str,
        expires_at: float,
        now: float,
        audit: AuditEvent,
    ) -> Lease:
        async with self._store.transaction() as conn:
            row = await conn.fetchrow(
                pg(
                    "UPDATE session_locks SET expires_at = ? WHERE session_id = ? "
                    f"AND resource = ? AND holder = ? AND expires_at > ? RETURNING {LOCK_COLUMNS}"
                ),
                expires_at,
                session_id,
                resource,
                holder,
                now,
            )
            if row is None:
                raise not_held_error(resource)
            await insert_audit(conn, audit)
        return _lease(tuple(row))

    async def release_lock(
        self, session_id: str, resource: str, holder: str | None, now: float, audit: AuditEvent
    ) -> Lease:
        async with self._store.transaction() as conn:
            row = await conn.fetchrow(
                pg(
                    "DELETE FROM session_locks WHERE session_id = ? AND resource = ? "
                    "AND expires_at > ? AND (holder = ? OR ?::text IS NULL) "
                    f"RETURNING {LOCK_COLUMNS}"
                ),
                session_id,
                resource,
                now,
                holder,
                holder,
            )
            if row is None:
                raise not_held_error(resource)
            await insert_audit(conn, audit)
        return _lease(tuple(row))

    async def get_lock(self, session_id: str, resource: str, now: float) -> Lease | None:
        async with self._store.connection() as conn:
            return await live_lease(conn, session_id, resource, now)

    async def list_locks(self, session_id: str, now: float, limit: int) -> list[Lease]:
        async with self._store.connection() as conn:
            found = await conn.fetch(
                pg(
                    f"SELECT {LOCK_COLUMNS} FROM session_locks WHERE session_id = ? "
                    "AND expires_at > ? ORDER BY resource LIMIT ?"
                ),
                session_id,
                now,
                limit,
            )
        return [_lease(tuple(r)) for r in found]

    async def purge_expired_locks(self, now: float) -> int:
        async with self._store.transaction() as conn:
            status = await conn.execute("DELETE FROM session_locks WHERE expires_at <= $1", now)
        return affected(status)

    async def count_live_locks(self, now: float) -> int:
        async with self._store.connection() as conn:
            count = await conn.fetchval(
                "SELECT COUNT(*) FROM session_locks WHERE expires_at > $1", now
            )
        return int(count)
