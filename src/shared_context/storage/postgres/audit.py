"""The PostgreSQL implementation of ``storage.audit.AuditLogStore``."""

from __future__ import annotations

from typing import Any

from shared_context.domain.audit import AuditQuery, AuditSummary
from shared_context.domain.models import AuditEvent
from shared_context.storage import rows
from shared_context.storage.postgres.sql import pg
from shared_context.storage.postgres.store import PostgresStore, affected
from shared_context.storage.queries import TOP_AGENTS, audit_query_sql


class PostgresAuditLog:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        sql, params = audit_query_sql(query)
        async with self._store.connection() as conn:
            found = await conn.fetch(pg(sql), *params)
        return [rows.audit(r) for r in found]

    async def summary(self, agent_id: str | None, since: float) -> AuditSummary:
        condition = "ts >= ?" + ("" if agent_id is None else " AND agent_id = ?")
        params: list[Any] = [since] if agent_id is None else [since, agent_id]
        async with self._store.connection() as conn:
            by_type: dict[str, int] = {}
            by_outcome: dict[str, int] = {}
            for event_type, outcome, count in await conn.fetch(
                pg(
                    f"SELECT event_type, outcome, COUNT(*) FROM audit_log WHERE {condition} "
                    "GROUP BY event_type, outcome"
                ),
                *params,
            ):
                by_type[event_type] = by_type.get(event_type, 0) + count
                by_outcome[outcome] = by_outcome.get(outcome, 0) + count
            total, sessions, first, last = await conn.fetchrow(
                pg(
                    "SELECT COUNT(*), COUNT(DISTINCT session_id), MIN(ts), MAX(ts) "
                    f"FROM audit_log WHERE {condition}"
                ),
                *params,
            )
            by_agent: dict[str, int] = {}
            if agent_id is None:
                by_agent = {
                    str(agent): int(count)
                    for agent, count in await conn.fetch(
                        pg(
                            f"SELECT COALESCE(agent_id, ''), COUNT(*) FROM audit_log "
                            f"WHERE {condition} GROUP BY agent_id ORDER BY 2 DESC, 1 LIMIT ?"
                        ),
                        *params,
                        TOP_AGENTS,
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

    async def purge_before(self, cutoff: float, batch: int) -> int:
        async with self._store.transaction() as conn:
            status = await conn.execute(
                "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE ts < $1 "
                "ORDER BY ts LIMIT $2 FOR UPDATE SKIP LOCKED)",
                cutoff,
                batch,
            )
        return affected(status)
