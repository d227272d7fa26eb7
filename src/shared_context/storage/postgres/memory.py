"""The PostgreSQL implementation of ``storage.memory.MemoryStore``.

SQLite's single writer makes ``put``'s read-check-write exact for free. Here several
transactions (and instances) run at once, so ``put`` and ``delete`` first take a
transaction-scoped advisory lock on the owner (``pg_advisory_xact_lock``, released at COMMIT,
never held across requests): an owner's writes are serialised, which keeps compare-and-set
and the per-owner quotas exact; different owners never wait for each other.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from shared_context.domain.memory import (
    MemoryEntry,
    MemoryWrite,
    check_quota,
    check_write_preconditions,
)
from shared_context.domain.models import AuditEvent
from shared_context.domain.validation import dumps
from shared_context.storage.memory import COLUMNS, LIVE, entry, is_live
from shared_context.storage.postgres.sql import pg
from shared_context.storage.postgres.store import PostgresStore, affected, insert_audit

#: First key of the two-key advisory lock: "memory owner" (the second is hashtext(agent_id)).
OWNER_LOCK_CLASS = 0x5C5_0002


async def lock_owner(conn: Any, agent_id: str) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", OWNER_LOCK_CLASS, agent_id)


class PostgresMemoryStore:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def put(self, write: MemoryWrite, audit: AuditEvent) -> tuple[MemoryEntry, bool]:
        scope = write.session_id or ""
        async with self._store.transaction() as conn:
            await lock_owner(conn, write.agent_id)
            row = await conn.fetchrow(
                pg(
                    f"SELECT {COLUMNS} FROM agent_memory "
                    "WHERE agent_id = ? AND scope = ? AND key = ?"
                ),
                write.agent_id,
                scope,
                write.key,
            )
            live = row if is_live(row, write.now) else None
            check_write_preconditions(write, None if live is None else live[7])
            await _check_quota(conn, write, live)
            version = live[7] + 1 if live is not None else 1
            created_at = live[8] if live is not None else write.now
            values = (
                write.value_json,
                dumps(write.metadata),
                write.size_bytes,
                version,
                created_at,
                write.now,
                write.expires_at,
            )
            if row is None:
                entry_id = await conn.fetchval(
                    pg(
                        "INSERT INTO agent_memory (value, metadata, size_bytes, version, "
                        "created_at, updated_at, expires_at, agent_id, scope, key) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
                    ),
                    *values,
                    write.agent_id,
                    scope,
                    write.key,
                )
            else:
                entry_id = row[0]
                await conn.execute(
                    pg(
                        "UPDATE agent_memory SET value = ?, metadata = ?, size_bytes = ?, "
                        "version = ?, created_at = ?, updated_at = ?, expires_at = ? WHERE id = ?"
                    ),
                    *values,
                    entry_id,
                )
            details = {**audit.details, "version": version, "size_bytes": write.size_bytes}
            await insert_audit(conn, dataclasses.replace(audit, details=details))
        stored = MemoryEntry(
            id=int(entry_id),
            agent_id=write.agent_id,
            session_id=write.session_id,
            key=write.key,
            value_json=write.value_json,
            metadata=write.metadata,
            size_bytes=write.size_bytes,
            version=version,
            created_at=created_at,
            updated_at=write.now,
            expires_at=write.expires_at,
        )
        return stored, live is None

    async def get(self, agent_id: str, scope: str, key: str, now: float) -> MemoryEntry | None:
        async with self._store.connection() as conn:
            row = await conn.fetchrow(
                pg(
                    f"SELECT {COLUMNS} FROM agent_memory "
                    f"WHERE agent_id = ? AND scope = ? AND key = ? AND {LIVE}"
                ),
                agent_id,
                scope,
                key,
                now,
            )
        return entry(row) if row else None

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
        where = ["agent_id = ?", LIVE]
        params: list[Any] = [agent_id, now]
        if scope is not None:
            where.append("scope = ?")
            params.append(scope)
        if prefix:
            # starts_with: exact and case-sensitive; LIKE would treat % and _ as wildcards.
            where.append("starts_with(key, ?)")
            params.append(prefix)
        if after_id is not None:
            where.append("id > ?")
            params.append(after_id)
        columns = COLUMNS if with_values else COLUMNS.replace(" value,", " '' AS value,")
        sql = f"SELECT {columns} FROM agent_memory WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
        params.append(limit)
        async with self._store.connection() as conn:
            found = await conn.fetch(pg(sql), *params)
        return [entry(r) for r in found]

    async def delete(
        self, agent_id: str, scope: str, key: str, now: float, audit: AuditEvent
    ) -> MemoryEntry | None:
        async with self._store.transaction() as conn:
            await lock_owner(conn, agent_id)
            row = await conn.fetchrow(
                pg(
                    f"DELETE FROM agent_memory WHERE agent_id = ? AND scope = ? AND key = ? "
                    f"AND {LIVE} RETURNING {COLUMNS}"
                ),
                agent_id,
                scope,
                key,
                now,
            )
            if row is None:
                return None
            details = {**audit.details, "version": row[7]}
            await insert_audit(conn, dataclasses.replace(audit, details=details))
        return entry(row)

    async def sweep(self, now: float, batch: int) -> int:
        async with self._store.transaction() as conn:
            status = await conn.execute(
                "DELETE FROM agent_memory WHERE id IN (SELECT id FROM agent_memory "
                "WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2 "
                "FOR UPDATE SKIP LOCKED)",
                now,
                batch,
            )
        return affected(status)

    async def count(self, now: float) -> int:
        async with self._store.connection() as conn:
            total = await conn.fetchval(pg(f"SELECT COUNT(*) FROM agent_memory WHERE {LIVE}"), now)
        return int(total)


async def _check_quota(conn: Any, write: MemoryWrite, live: Any) -> None:
    """Count the owner's live entries for ``domain.memory.check_quota``; the owner lock makes
    the count exact."""
    row = await conn.fetchrow(
        pg(
            "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM agent_memory "
            f"WHERE agent_id = ? AND {LIVE}"
        ),
        write.agent_id,
        write.now,
    )
    check_quota(write, int(row[0]), int(row[1]), None if live is None else live[6])
