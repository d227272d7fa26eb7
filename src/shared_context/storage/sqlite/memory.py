"""The SQLite implementation of ``storage.memory.MemoryStore``.

``put`` reads the current entry, checks overwrite / if_version / quotas and writes, all inside
one function run by the single writer, so no other write can interleave between the check and
the write (compare-and-set is exact).
"""

from __future__ import annotations

import dataclasses
import sqlite3
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
from shared_context.storage.sqlite.store import SqliteStore, insert_audit


class SqliteMemoryStore:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def put(self, write: MemoryWrite, audit: AuditEvent) -> tuple[MemoryEntry, bool]:
        def fn(conn: sqlite3.Connection) -> tuple[MemoryEntry, bool]:
            scope = write.session_id or ""
            row = conn.execute(
                f"SELECT {COLUMNS} FROM agent_memory WHERE agent_id = ? AND scope = ? AND key = ?",
                (write.agent_id, scope, write.key),
            ).fetchone()
            live = row if is_live(row, write.now) else None
            check_write_preconditions(write, None if live is None else live[7])
            _check_quota(conn, write, live)
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
                cur = conn.execute(
                    "INSERT INTO agent_memory (value, metadata, size_bytes, version, created_at, "
                    "updated_at, expires_at, agent_id, scope, key) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, write.agent_id, scope, write.key),
                )
                entry_id = int(cur.lastrowid or 0)
            else:
                entry_id = row[0]
                conn.execute(
                    "UPDATE agent_memory SET value = ?, metadata = ?, size_bytes = ?, "
                    "version = ?, created_at = ?, updated_at = ?, expires_at = ? WHERE id = ?",
                    (*values, entry_id),
                )
            details = {**audit.details, "version": version, "size_bytes": write.size_bytes}
            insert_audit(conn, dataclasses.replace(audit, details=details))
            stored = MemoryEntry(
                id=entry_id,
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

        result: tuple[MemoryEntry, bool] = await self._store.write(fn)
        return result

    async def get(self, agent_id: str, scope: str, key: str, now: float) -> MemoryEntry | None:
        def fn(conn: sqlite3.Connection) -> MemoryEntry | None:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM agent_memory "
                f"WHERE agent_id = ? AND scope = ? AND key = ? AND {LIVE}",
                (agent_id, scope, key, now),
            ).fetchone()
            return entry(row) if row else None

        found: MemoryEntry | None = await self._store.read(fn)
        return found

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
            # substr/length count characters, like Python's len(): an exact, case-sensitive
            # prefix match (LIKE and GLOB would fold case or treat % _ * ? as wildcards).
            where.append("substr(key, 1, ?) = ?")
            params.extend((len(prefix), prefix))
        if after_id is not None:
            where.append("id > ?")
            params.append(after_id)
        columns = COLUMNS if with_values else COLUMNS.replace(" value,", " '' AS value,")
        sql = f"SELECT {columns} FROM agent_memory WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
        params.append(limit)

        def fn(conn: sqlite3.Connection) -> list[MemoryEntry]:
            return [entry(r) for r in conn.execute(sql, params).fetchall()]

        found: list[MemoryEntry] = await self._store.read(fn)
        return found

    async def delete(
        self, agent_id: str, scope: str, key: str, now: float, audit: AuditEvent
    ) -> MemoryEntry | None:
        def fn(conn: sqlite3.Connection) -> MemoryEntry | None:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM agent_memory "
                f"WHERE agent_id = ? AND scope = ? AND key = ? AND {LIVE}",
                (agent_id, scope, key, now),
            ).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM agent_memory WHERE id = ?", (row[0],))
            details = {**audit.details, "version": row[7]}
            insert_audit(conn, dataclasses.replace(audit, details=details))
            return entry(row)

        deleted: MemoryEntry | None = await self._store.write(fn)
        return deleted

    async def sweep(self, now: float, batch: int) -> int:
        def fn(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "DELETE FROM agent_memory WHERE id IN (SELECT id FROM agent_memory "
                "WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)",
                (now, batch),
            )
            return int(cur.rowcount)

        removed: int = await self._store.write(fn)
        return removed

    async def count(self, now: float) -> int:
        def fn(conn: sqlite3.Connection) -> int:
            row = conn.execute(f"SELECT COUNT(*) FROM agent_memory WHERE {LIVE}", (now,)).fetchone()
            return int(row[0])

        total: int = await self._store.read(fn)
        return total


def _check_quota(
    conn: sqlite3.Connection, write: MemoryWrite, live: sqlite3.Row | tuple[Any, ...] | None
) -> None:
    row = conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM agent_memory "
        f"WHERE agent_id = ? AND {LIVE}",
        (write.agent_id, write.now),
    ).fetchone()
    check_quota(write, int(row[0]), int(row[1]), None if live is None else live[6])
