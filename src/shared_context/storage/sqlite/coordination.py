"""SQLite implementation of ``storage.coordination.CoordinationStore``.

Lock writes run inside the single writer's ``BEGIN IMMEDIATE`` transaction, so the read of
the current lease and the write that replaces it cannot interleave with another acquirer —
in this process or any other process writing the same database file.
"""

from __future__ import annotations

import sqlite3
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
from shared_context.storage.sqlite.store import SqliteStore, insert_audit


def live_lease(
    conn: sqlite3.Connection, session_id: str, resource: str, now: float
) -> Lease | None:
    row = conn.execute(
        f"SELECT {LOCK_COLUMNS} FROM session_locks "
        "WHERE session_id = ? AND resource = ? AND expires_at > ?",
        (session_id, resource, now),
    ).fetchone()
    return _lease(row) if row else None


class SqliteCoordinationStore:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    # --- presence -----------------------------------------------------------------------------
    async def upsert_presence(self, presence: Presence, audit: AuditEvent) -> None:
        def fn(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO agent_presence ({PRESENCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (agent_id) DO UPDATE SET agent_type = excluded.agent_type, "
                "status = excluded.status, session_id = excluded.session_id, "
                "metadata = excluded.metadata, "
                "last_seen = MAX(agent_presence.last_seen, excluded.last_seen)",
                (
                    presence.agent_id,
                    presence.agent_type,
                    presence.status.value,
                    presence.session_id,
                    dumps(presence.metadata),
                    presence.last_seen,
                ),
            )
            insert_audit(conn, audit)

        await self._store.write(fn)

    async def touch_presence(self, touches: Sequence[tuple[str, str, float]]) -> None:
        rows = list(touches)
        if not rows:
            return

        def fn(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO agent_presence (agent_id, agent_type, status, last_seen) "
                "VALUES (?, ?, 'active', ?) ON CONFLICT (agent_id) DO UPDATE SET "
                "agent_type = excluded.agent_type, "
                "last_seen = MAX(agent_presence.last_seen, excluded.last_seen)",
                rows,
            )

        await self._store.write(fn)

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

        def fn(conn: sqlite3.Connection) -> list[Presence]:
            return [_presence(r) for r in conn.execute(sql, params).fetchall()]

        found: list[Presence] = await self._store.read(fn)
        return found

    async def get_presence(self, agent_ids: Sequence[str]) -> list[Presence]:
        ids = list(agent_ids)
        if not ids:
            return []
        out: list[Presence] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT {PRESENCE_COLUMNS} FROM agent_presence WHERE agent_id IN ({marks})"

            def fn(conn: sqlite3.Connection, sql: str = sql, chunk: list[str] = chunk) -> Any:
                return [_presence(r) for r in conn.execute(sql, chunk).fetchall()]

            out.extend(await self._store.read(fn))
        return out

    async def count_presence(self, *, seen_since: float) -> int:
        def fn(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT COUNT(*) FROM agent_presence WHERE last_seen >= ? AND status != 'offline'",
                (seen_since,),
            ).fetchone()
            return int(row[0])

        count: int = await self._store.read(fn)
        return count

    # --- locks --------------------------------------------------------------------------------
    async def acquire_lock(self, lease: Lease, now: float, audit: AuditEvent) -> LockOutcome:
        def fn(conn: sqlite3.Connection) -> LockOutcome:
            row = conn.execute(
                f"SELECT {LOCK_COLUMNS} FROM session_locks WHERE session_id = ? AND resource = ?",
                (lease.session_id, lease.resource),
            ).fetchone()
            previous = _lease(row) if row else None
            live = previous is not None and previous.expires_at > now
            if previous is not None and live and previous.holder != lease.holder:
                raise locked_error(previous)
            granted = lease
            if previous is not None and live:  # the holder re-locking: a renewal
                granted = Lease(
                    lease.session_id,
                    lease.resource,
                    lease.lock_type,
                    lease.holder,
                    lease.holder_type,
                    previous.acquired_at,
                    lease.expires_at,
                )
            conn.execute(
                f"INSERT OR REPLACE INTO session_locks ({LOCK_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    granted.session_id,
                    granted.resource,
                    granted.lock_type,
                    granted.holder,
                    granted.holder_type,
                    granted.acquired_at,
                    granted.expires_at,
                ),
            )
            insert_audit(conn, audit)
            return LockOutcome(granted, previous)

        outcome: LockOutcome = await self._store.write(fn)
        return outcome

    async def renew_lock(
        self,
        session_id: str,
        resource: str,
        holder: str,
        expires_at: float,
        now: float,
        audit: AuditEvent,
    ) -> Lease:
        def fn(conn: sqlite3.Connection) -> Lease:
            cur = conn.execute(
                "UPDATE session_locks SET expires_at = ? WHERE session_id = ? AND resource = ? "
                "AND holder = ? AND expires_at > ?",
                (expires_at, session_id, resource, holder, now),
            )
            if cur.rowcount == 0:
                raise not_held_error(resource)
            insert_audit(conn, audit)
            lease = live_lease(conn, session_id, resource, now)
            assert lease is not None
            return lease

        renewed: Lease = await self._store.write(fn)
        return renewed

    async def release_lock(
        self, session_id: str, resource: str, holder: str | None, now: float, audit: AuditEvent
    ) -> Lease:
        def fn(conn: sqlite3.Connection) -> Lease:
            lease = live_lease(conn, session_id, resource, now)
            if lease is None or (holder is not None and lease.holder != holder):
                raise not_held_error(resource)
            conn.execute(
                "DELETE FROM session_locks WHERE session_id = ? AND resource = ?",
                (session_id, resource),
            )
            insert_audit(conn, audit)
            return lease

        released: Lease = await self._store.write(fn)
        return released

    async def get_lock(self, session_id: str, resource: str, now: float) -> Lease | None:
        def fn(conn: sqlite3.Connection) -> Lease | None:
            return live_lease(conn, session_id, resource, now)

        found: Lease | None = await self._store.read(fn)
        return found

    async def list_locks(self, session_id: str, now: float, limit: int) -> list[Lease]:
        def fn(conn: sqlite3.Connection) -> list[Lease]:
            cur = conn.execute(
                f"SELECT {LOCK_COLUMNS} FROM session_locks WHERE session_id = ? "
                "AND expires_at > ? ORDER BY resource LIMIT ?",
                (session_id, now, limit),
            )
            return [_lease(r) for r in cur.fetchall()]

        found: list[Lease] = await self._store.read(fn)
        return found

    async def purge_expired_locks(self, now: float) -> int:
        def fn(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM session_locks WHERE expires_at <= ?", (now,)).rowcount

        purged: int = await self._store.write(fn)
        return purged

    async def count_live_locks(self, now: float) -> int:
        def fn(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT COUNT(*) FROM session_locks WHERE expires_at > ?", (now,)
            ).fetchone()
            return int(row[0])

        count: int = await self._store.read(fn)
        return count
