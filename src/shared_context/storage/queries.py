"""SQL shared by both storage adapters, written with ``?`` placeholders (the PostgreSQL adapter
translates them in one place, ``storage/postgres/sql.py``). Only what is the same in both
dialects lives here; dialect-specific statements stay in each adapter."""

from __future__ import annotations

from typing import Any

from shared_context.domain import visibility as vis
from shared_context.domain.audit import AuditQuery
from shared_context.domain.models import MessageQuery, Principal
from shared_context.storage.rows import MESSAGE_COLUMNS, SESSION_COLUMNS

TOP_AGENTS = 100  # agents listed in an activity summary
AUDIT_COLUMNS = "id, ts, agent_id, event_type, session_id, outcome, details"


def _filtered(where: list[str], params: list[Any], optional: tuple[tuple[str, Any], ...]) -> None:
    for clause, value in optional:
        if value is not None:
            where.append(clause)
            params.append(value)


def message_query_sql(viewer: Principal, query: MessageQuery) -> tuple[str, list[Any]]:
    cond, vparams = vis.sql_filter(viewer, include_admin_only=query.include_admin_only)
    where = ["m.session_id = ?", cond]
    params: list[Any] = [query.session_id, *vparams]
    _filtered(
        where,
        params,
        (
            ("m.id > ?", query.after_id),
            ("m.id < ?", query.before_id),
            ("m.sender = ?", query.sender),
            ("m.visibility = ?", query.visibility.value if query.visibility else None),
            ("m.created_at >= ?", query.since),
            ("m.created_at <= ?", query.until),
            ("m.parent_message_id = ?", query.parent_message_id),
        ),
    )
    order = "DESC" if query.newest_first else "ASC"
    sql = (
        f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE {' AND '.join(where)} "
        f"ORDER BY m.id {order} LIMIT ?"
    )
    params.append(query.limit)
    return sql, params


def session_list_sql(
    *, active_only: bool, created_by: str | None, limit: int, after_seq: int | None
) -> tuple[str, list[Any]]:
    where = ["1 = 1"]
    params: list[Any] = []
    if active_only:
        where.append("is_active = TRUE")
    _filtered(where, params, (("created_by = ?", created_by), ("seq < ?", after_seq)))
    sql = (
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {' AND '.join(where)} "
        "ORDER BY seq DESC LIMIT ?"
    )
    params.append(limit)
    return sql, params


def audit_query_sql(query: AuditQuery) -> tuple[str, list[Any]]:
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    _filtered(
        where,
        params,
        (
            ("agent_id = ?", query.agent_id),
            ("session_id = ?", query.session_id),
            ("event_type = ?", query.event_type),
            ("ts >= ?", query.since),
            ("id < ?" if query.newest_first else "id > ?", query.cursor_id),
        ),
    )
    order = "DESC" if query.newest_first else "ASC"
    sql = (
        f"SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {' AND '.join(where)} "
        f"ORDER BY id {order} LIMIT ?"
    )
    params.append(query.limit)
    return sql, params
