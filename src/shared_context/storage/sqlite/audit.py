"""The SQLite implementation of ``storage.audit.AuditLogStore``."""

from __future__ import annotations

import sqlite3
from typing import Any

from shared_context.domain.audit import AuditQuery, AuditSummary
from shared_context.domain.models import AuditEvent
from shared_context.storage import rows
from shared_context.storage.queries import TOP_AGENTS, audit_query_sql
from shared_context.storage.sqlite.store import SqliteStore


class SqliteAuditLog:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        sql, params = audit_query_sql(query)

        def fn(conn: sqlite3.Connection) -> list[AuditEvent]:
            return [rows.audit(r) for r in conn.execute(sql, params).fetchall()]

        found: list[AuditEvent] = await self._store.read(fn)
        return found

    async def summary(self, agent_id: str | None, since: float) -> AuditSummary:
        condition = "ts >= ?" + ("" if agent_id is None else " AND agent_id = ?")
        params: list[Any] = [since] if agent_id is None else [since, agent_id]

        def fn(conn: sqlite3.Connection) -> AuditSummary:
            by_type: dict[str, int] = {}
            by_outcome: dict[str, int] = {}
            for event_type, outcome, count in conn.execute(
                f"SELECT event_type, outcome, COUNT(*) FROM audit_log WHERE {condition} "
                "GROUP BY event_type, outcome",
                params,
            ):
                by_type[event_type] = by_type.get(event_type, 0) + count
                by_outcome[outcome] = by_outcome.get(outcome, 0) + count
            total, sessions, first, last = conn.execute(
                f"SELECT COUNT(*), COUNT(DISTINCT session_id), MIN(ts), MAX(ts) FROM audit_log "
                f"WHERE {condition}",
                params,
            ).fetchone()
            by_agent: dict[str, int] = {}
            if agent_id is None:
                by_agent = {
                    str(agent): int(count)
                    for agent, count in conn.execute(
                        f"SELECT COALESCE(agent_id, ''), COUNT(*) FROM audit_log "
                        f"WHERE {condition} GROUP BY agent_id ORDER BY 2 DESC, 1 LIMIT ?",
                        [*params, TOP_AGENTS],
                    )
                }
            return AuditSummary(
                total=int(total),
                by_event_type=dict(sorted(by_type.items())),
                by_outcome=dict(sorted(by_outcome.items())),
                by_agent=by_agent,
                sessions=int(sessions),
                first_at=first,
                last_at=last,
            )

        result: AuditSummary = await self._store.read(fn)
        return result

    async def purge_before(self, cutoff: float, batch: int) -> int:
        def fn(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "DELETE FROM audit_log WHERE id IN "
                "(SELECT id FROM audit_log WHERE ts < ? ORDER BY ts LIMIT ?)",
                (cutoff, batch),
            )
            return int(cur.rowcount)

        removed: int = await self._store.write(fn)
        return removed
