"""The PostgreSQL implementation of ``storage.base.Store`` (asyncpg).

Same semantics as ``sqlite/store.py``: the same errors, idempotency, the audit row committed in
the mutation's own transaction, and visibility applied with ``domain.visibility.sql_filter``.
Queries are written with ``?`` and numbered by ``sql.pg``; connection handling (pool,
transactions, migrations) lives in ``database.PostgresDatabase``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared_context.domain import visibility as vis
from shared_context.domain.errors import StorageError, message_not_found, session_not_found
from shared_context.domain.models import (
    ApiKey,
    AuditEvent,
    Message,
    MessageQuery,
    NewMessage,
    Principal,
    Session,
    Visibility,
)
from shared_context.domain.validation import dumps
from shared_context.storage import rows
from shared_context.storage.postgres.database import PostgresDatabase
from shared_context.storage.postgres.guards import check_session_writable
from shared_context.storage.postgres.sql import pg
from shared_context.storage.queries import message_query_sql, session_list_sql


async def insert_audit(conn: Any, event: AuditEvent) -> None:
    await conn.execute(
        pg(
            "INSERT INTO audit_log (ts, agent_id, event_type, session_id, outcome, details) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        ),
        event.timestamp,
        event.agent_id,
        event.event_type,
        event.session_id,
        event.outcome,
        dumps(event.details),
    )


def affected(status: str) -> int:
    """Row count from a command tag such as ``INSERT 0 1`` or ``UPDATE 3``."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresStore(PostgresDatabase):
    """Core tables: secrets, keys, revoked tokens, sessions, messages, audit."""

    async def totals(self, since: float) -> dict[str, int]:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                pg(
                    "SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM messages), "
                    "(SELECT COUNT(*) FROM audit_log), (SELECT COUNT(*) FROM audit_log "
                    "WHERE ts > ? AND outcome = 'success' "
                    "AND event_type NOT IN ('authenticate', 'token_rejected')), "
                    "to_regclass('agent_memory') IS NOT NULL"
                ),
                since,
            )
            memory = 0
            if row[4]:
                memory = int(await conn.fetchval("SELECT COUNT(*) FROM agent_memory"))
        return {
            "sessions": int(row[0]),
            "messages": int(row[1]),
            "audit_events": int(row[2]),
            "writes_last_24h": int(row[3]),
            "memory_entries": memory,
        }

    # --- secrets and keys -------------------------------------------------------------------
    async def get_or_create_secret(self, name: str, candidate: str) -> str:
        async with self.transaction() as conn:
            await conn.execute(
                pg("INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING"),
                name,
                candidate,
            )
            value = await conn.fetchval(pg("SELECT value FROM server_secrets WHERE name = ?"), name)
        return str(value)

    async def add_api_key(self, key: ApiKey, key_hash: str) -> bool:
        async with self.transaction() as conn:
            status = await conn.execute(
                pg(
                    "INSERT INTO api_keys "
                    "(key_id, name, key_hash, permissions, created_at, agents) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
                ),
                key.key_id,
                key.name,
                key_hash,
                json.dumps(sorted(p.value for p in key.permissions)),
                key.created_at,
                json.dumps(list(key.agents)),
            )
        return affected(status) == 1

    async def bind_api_key(self, key_id: str, agents: tuple[str, ...]) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                pg("UPDATE api_keys SET agents = ? WHERE key_id = ?"),
                json.dumps(list(agents)),
                key_id,
            )

    async def find_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                pg(f"SELECT {rows.KEY_COLUMNS} FROM api_keys WHERE key_hash = ?"), key_hash
            )
        return rows.api_key(row) if row else None

    async def list_api_keys(self) -> list[ApiKey]:
        async with self.connection() as conn:
            found = await conn.fetch(
                f"SELECT {rows.KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_id"
            )
        return [rows.api_key(r) for r in found]

    async def revoke_api_key(self, name_or_id: str, at: float) -> bool:
        async with self.transaction() as conn:
            status = await conn.execute(
                pg(
                    "UPDATE api_keys SET revoked_at = ? "
                    "WHERE (name = ? OR key_id = ?) AND revoked_at IS NULL"
                ),
                at,
                name_or_id,
                name_or_id,
            )
        return affected(status) > 0

    async def revoke_token(self, jti: str, expires_at: float) -> bool:
        async with self.transaction() as conn:
            status = await conn.execute(
                pg(
                    "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING"
                ),
                jti,
                expires_at,
            )
        return affected(status) == 1

    async def token_revocation(self, jti: str, key_id: str) -> tuple[bool, bool]:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                pg(
                    "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?), "
                    "NOT EXISTS (SELECT 1 FROM api_keys WHERE key_id = ? AND revoked_at IS NULL)"
                ),
                jti,
                key_id,
            )
        return bool(row[0]), bool(row[1])

    # --- sessions ---------------------------------------------------------------------------
    async def create_session(self, session: Session, audit: AuditEvent) -> Session:
        async with self.transaction() as conn:
            seq = await conn.fetchval(
                pg(
                    "INSERT INTO sessions (session_id, purpose, metadata, created_by, created_at) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING seq"
                ),
                session.session_id,
                session.purpose,
                dumps(session.metadata),
                session.created_by,
                session.created_at,
            )
            await insert_audit(conn, audit)
        return Session(
            seq=int(seq),
            session_id=session.session_id,
            purpose=session.purpose,
            metadata=session.metadata,
            created_by=session.created_by,
            created_at=session.created_at,
            is_active=True,
        )

    async def get_session(self, session_id: str) -> Session | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                pg(f"SELECT {rows.SESSION_COLUMNS} FROM sessions WHERE session_id = ?"),
                session_id,
            )
        return rows.session(row) if row else None

    async def list_sessions(
        self, *, active_only: bool, created_by: str | None, limit: int, after_seq: int | None
    ) -> list[Session]:
        sql, params = session_list_sql(
            active_only=active_only, created_by=created_by, limit=limit, after_seq=after_seq
        )
        async with self.connection() as conn:
            found = await conn.fetch(pg(sql), *params)
        return [rows.session(r) for r in found]

    async def close_session(self, session_id: str, at: float, audit: AuditEvent) -> None:
        async with self.transaction() as conn:
            status = await conn.execute(
                pg("UPDATE sessions SET is_active = FALSE, closed_at = ? WHERE session_id = ?"),
                at,
                session_id,
            )
            if affected(status) == 0:
                raise session_not_found(session_id)
            await insert_audit(conn, audit)

    async def visible_counts(self, viewer: Principal, session_ids: Sequence[str]) -> dict[str, int]:
        if not session_ids:
            return {}
        cond, params = vis.sql_filter(viewer)
        sql = (
            "SELECT m.session_id, COUNT(*) FROM messages m WHERE m.session_id = ANY(?) "
            f"AND {cond} GROUP BY m.session_id"
        )
        async with self.connection() as conn:
            found = {r[0]: int(r[1]) for r in await conn.fetch(pg(sql), list(session_ids), *params)}
        return {sid: found.get(sid, 0) for sid in session_ids}

    async def participants(self, viewer: Principal, session_id: str) -> list[str]:
        cond, params = vis.sql_filter(viewer)
        sql = (
            f"SELECT DISTINCT m.sender FROM messages m WHERE m.session_id = ? AND {cond} "
            "ORDER BY m.sender LIMIT 1000"
        )
        async with self.connection() as conn:
            found = await conn.fetch(pg(sql), session_id, *params)
        return [r[0] for r in found]

    # --- messages ---------------------------------------------------------------------------
    async def _find_idempotent(self, conn: Any, sender: str, key: str) -> Message | None:
        row = await conn.fetchrow(
            pg(
                f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m "
                "WHERE m.sender = ? AND m.idempotency_key = ?"
            ),
            sender,
            key,
        )
        return rows.message(row) if row else None

    async def add_message(self, new: NewMessage, audit: AuditEvent) -> tuple[Message, bool]:
        async with self.transaction() as conn:
            if new.idempotency_key is not None:
                seen = await self._find_idempotent(conn, new.sender, new.idempotency_key)
                if seen is not None:
                    return seen, False
            await check_session_writable(conn, new.session_id, new.sender, new.created_at)
            if new.parent_message_id is not None:
                parent = await conn.fetchval(
                    pg("SELECT 1 FROM messages WHERE id = ? AND session_id = ?"),
                    new.parent_message_id,
                    new.session_id,
                )
                if parent is None:
                    raise message_not_found(new.parent_message_id)
            message_id = await conn.fetchval(
                pg(
                    "INSERT INTO messages (session_id, sender, sender_type, content, visibility, "
                    "metadata, parent_message_id, created_at, idempotency_key) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (sender, idempotency_key) WHERE idempotency_key IS NOT NULL "
                    "DO NOTHING RETURNING id"
                ),
                new.session_id,
                new.sender,
                new.sender_type,
                new.content,
                new.visibility.value,
                dumps(new.metadata),
                new.parent_message_id,
                new.created_at,
                new.idempotency_key,
            )
            if message_id is None and new.idempotency_key is not None:
                # A concurrent call with the same key committed first: answer with its message.
                seen = await self._find_idempotent(conn, new.sender, new.idempotency_key)
                if seen is not None:
                    return seen, False
                raise StorageError("The message could not be stored; try again.")
            await insert_audit(conn, _with_details(audit, message_id=int(message_id)))
        return (
            Message(
                id=int(message_id),
                session_id=new.session_id,
                sender=new.sender,
                sender_type=new.sender_type,
                content=new.content,
                visibility=new.visibility,
                metadata=new.metadata,
                parent_message_id=new.parent_message_id,
                created_at=new.created_at,
            ),
            True,
        )

    async def get_messages(self, viewer: Principal, query: MessageQuery) -> list[Message]:
        sql, params = message_query_sql(viewer, query)
        async with self.connection() as conn:
            found = await conn.fetch(pg(sql), *params)
        return [rows.message(r) for r in found]

    async def get_message(self, session_id: str, message_id: int) -> Message | None:
        async with self.connection() as conn:
            row = await conn.fetchrow(
                pg(
                    f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m "
                    "WHERE m.id = ? AND m.session_id = ?"
                ),
                message_id,
                session_id,
            )
        return rows.message(row) if row else None

    async def set_visibility(
        self, session_id: str, message_id: int, visibility: Visibility, audit: AuditEvent
    ) -> Message:
        async with self.transaction() as conn:
            row = await conn.fetchrow(
                pg(
                    "UPDATE messages AS m SET visibility = ? WHERE m.id = ? AND m.session_id = ? "
                    f"RETURNING {rows.MESSAGE_COLUMNS}"
                ),
                visibility.value,
                message_id,
                session_id,
            )
            if row is None:
                raise message_not_found(message_id)
            await insert_audit(conn, audit)
        return rows.message(row)

    async def recent_messages(self, session_id: str, limit: int) -> list[Message]:
        async with self.connection() as conn:
            found = await conn.fetch(
                pg(
                    f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m WHERE m.session_id = ? "
                    "ORDER BY m.id DESC LIMIT ?"
                ),
                session_id,
                limit,
            )
        return [rows.message(r) for r in reversed(found)]

    async def last_message_id(self, session_id: str) -> int:
        async with self.connection() as conn:
            last = await conn.fetchval(
                pg("SELECT COALESCE(MAX(id), 0) FROM messages WHERE session_id = ?"), session_id
            )
        return int(last)

    # --- audit ------------------------------------------------------------------------------
    async def record_audit(self, event: AuditEvent) -> None:
        async with self.transaction() as conn:
            await insert_audit(conn, event)


def _with_details(event: AuditEvent, **extra: Any) -> AuditEvent:
    return AuditEvent(
        event_type=event.event_type,
        agent_id=event.agent_id,
        outcome=event.outcome,
        session_id=event.session_id,
        details={**event.details, **extra},
        timestamp=event.timestamp,
    )
