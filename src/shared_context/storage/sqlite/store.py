"""The SQLite implementation of ``storage.base.Store``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from shared_context.domain import visibility as vis
from shared_context.domain.errors import (
    ErrorCode,
    NotFound,
    StorageError,
    message_not_found,
    session_not_found,
)
from shared_context.domain.models import (
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
from shared_context.storage.queries import message_query_sql, session_list_sql
from shared_context.storage.sqlite.changes import SqliteChangeFeed
from shared_context.storage.sqlite.engine import ReadPool, connect
from shared_context.storage.sqlite.guards import check_session_writable
from shared_context.storage.sqlite.keys import KeyTables
from shared_context.storage.sqlite.schema import migrate
from shared_context.storage.sqlite.startup import StartupLock
from shared_context.storage.sqlite.writer import SqliteWriter
from shared_context.storage.stats import StorageStats


def insert_audit(conn: sqlite3.Connection, event: AuditEvent) -> None:
    conn.execute(
        "INSERT INTO audit_log (ts, agent_id, event_type, session_id, outcome, details) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            event.timestamp,
            event.agent_id,
            event.event_type,
            event.session_id,
            event.outcome,
            dumps(event.details),
        ),
    )


class SqliteStore(KeyTables):
    dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        read_pool_size: int = 4,
        batch_max: int = 256,
        queue_max: int = 10_000,
        busy_timeout_ms: int = 5000,
        synchronous: str = "NORMAL",
    ) -> None:
        self.path = path
        self._stats = StorageStats()
        self._busy = busy_timeout_ms
        self._sync = synchronous
        self._writer = SqliteWriter(
            self._writer_conn, batch_max=batch_max, queue_max=queue_max, stats=self._stats
        )
        self._reads = ReadPool(path, read_pool_size, busy_timeout_ms, self._stats)
        #: What other processes on this file commit (SPEC §15); started with the store.
        self.changes = SqliteChangeFeed(path, self._reads, self._writer, busy_timeout_ms)
        self._writer.observer = self.changes.marks
        self._startup = StartupLock(path)
        self._started = False

    def _writer_conn(self) -> sqlite3.Connection:
        return connect(
            self.path, busy_timeout_ms=self._busy, synchronous=self._sync, readonly=False
        )

    async def start(self) -> None:
        if self._started:
            return
        async with self.startup_lock():
            self._create_file()
            conn = self._writer_conn()
            try:
                migrate(conn)
            finally:
                conn.close()
        self._writer.start()
        await self.changes.start()
        self._started = True

    def change_feed(self) -> SqliteChangeFeed:
        return self.changes

    def startup_lock(self) -> AbstractAsyncContextManager[None]:
        """Held while a process creates the file, migrates, and makes the generated secret
        and keys, so processes starting at once on a fresh data directory do each exactly
        once (a file lock beside the database; re-entrant within this store)."""
        return self._startup

    def _create_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The database holds key hashes and possibly the generated JWT secret: owner-only.
        # SQLite gives the -wal and -shm files the same mode as the database file.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    async def close(self) -> None:
        if not self._started:
            return
        self._started = False
        self.changes.close()
        await self._writer.close()
        self._reads.close()

    async def ping(self, timeout: float = 2.0) -> None:
        """Both paths answer: a read on the pool and a (no-op) transaction on the writer."""

        def read(conn: sqlite3.Connection) -> None:
            conn.execute("SELECT 1 FROM schema_version LIMIT 1").fetchone()

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("SELECT 1").fetchone()

        if not self._started:
            raise StorageError("database unreachable: the store is closed")
        try:
            await asyncio.wait_for(self._reads.run(read), timeout)
            await asyncio.wait_for(self._writer.submit(write), timeout)
        except (StorageError, sqlite3.Error, RuntimeError, TimeoutError) as exc:
            raise StorageError(f"database unreachable: {type(exc).__name__}") from exc

    def stats(self) -> dict[str, Any]:
        return {
            **self._stats.snapshot(),
            "storage_full": self._writer.storage_full,
            "storage_full_events": self._writer.full_events,
            "space_recoveries": self._writer.space_recoveries,
            "early_checkpoints": self._writer.early_checkpoints,
        }

    async def recover_space(self, min_free_bytes: int) -> bool:
        """After STORAGE_FULL: once the volume has ``min_free_bytes`` free again, checkpoint
        the WAL back (TRUNCATE) and clear the degraded mark. True when it recovered."""
        if not self._writer.storage_full:
            return False
        stat = os.statvfs(self.path.parent)
        if stat.f_bavail * stat.f_frsize < min_free_bytes:
            return False
        return await self._writer.reclaim()

    @property
    def instruments(self) -> StorageStats:
        return self._stats

    async def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                total += candidate.stat().st_size
        return total

    async def maintain(self, now: float) -> dict[str, int]:
        def purge(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", (now,)).rowcount

        purged: int = await self._writer.submit(purge)

        def upkeep(conn: sqlite3.Connection) -> None:
            conn.execute("PRAGMA optimize")
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

        await self._writer.submit_outside_transaction(upkeep)
        return {"revoked_tokens_purged": purged}

    async def totals(self, since: float) -> dict[str, int]:
        def fn(conn: sqlite3.Connection) -> dict[str, int]:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            out = {
                "sessions": conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0],
                "messages": conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
                "audit_events": conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0],
                "writes_last_24h": conn.execute(
                    "SELECT COUNT(*) FROM audit_log WHERE ts > ? AND outcome = 'success' "
                    "AND event_type NOT IN ('authenticate', 'token_rejected')",
                    (since,),
                ).fetchone()[0],
                "memory_entries": 0,
            }
            if "agent_memory" in tables:
                out["memory_entries"] = conn.execute(
                    "SELECT COUNT(*) FROM agent_memory"
                ).fetchone()[0]
            return {k: int(v) for k, v in out.items()}

        result: dict[str, int] = await self._reads.run(fn)
        return result

    async def read(self, fn: Any) -> Any:
        """Run a read function on the pool (for adapters' feature modules)."""
        return await self._reads.run(fn)

    async def write(self, fn: Any) -> Any:
        """Run a write function in the next group commit (for adapters' feature modules)."""
        return await self._writer.submit(fn)

    # --- sessions ---------------------------------------------------------------------------
    async def create_session(self, session: Session, audit: AuditEvent) -> Session:
        def fn(conn: sqlite3.Connection) -> Session:
            cur = conn.execute(
                "INSERT INTO sessions (session_id, purpose, metadata, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    session.session_id,
                    session.purpose,
                    dumps(session.metadata),
                    session.created_by,
                    session.created_at,
                ),
            )
            insert_audit(conn, audit)
            return Session(
                seq=int(cur.lastrowid or 0),
                session_id=session.session_id,
                purpose=session.purpose,
                metadata=session.metadata,
                created_by=session.created_by,
                created_at=session.created_at,
                is_active=True,
            )

        created: Session = await self._writer.submit(fn)
        return created

    async def get_session(self, session_id: str) -> Session | None:
        def fn(conn: sqlite3.Connection) -> Session | None:
            row = conn.execute(
                f"SELECT {rows.SESSION_COLUMNS} FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
            return rows.session(row) if row else None

        found: Session | None = await self._reads.run(fn)
        return found

    async def list_sessions(
        self, *, active_only: bool, created_by: str | None, limit: int, after_seq: int | None
    ) -> list[Session]:
        sql, params = session_list_sql(
            active_only=active_only, created_by=created_by, limit=limit, after_seq=after_seq
        )

        def fn(conn: sqlite3.Connection) -> list[Session]:
            return [rows.session(r) for r in conn.execute(sql, params).fetchall()]

        found: list[Session] = await self._reads.run(fn)
        return found

    async def close_session(self, session_id: str, at: float, audit: AuditEvent) -> None:
        def fn(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE sessions SET is_active = 0, closed_at = ? WHERE session_id = ?",
                (at, session_id),
            )
            if cur.rowcount == 0:
                raise session_not_found(session_id)
            insert_audit(conn, audit)

        await self._writer.submit(fn)

    async def visible_counts(self, viewer: Principal, session_ids: Sequence[str]) -> dict[str, int]:
        if not session_ids:
            return {}
        cond, params = vis.sql_filter(viewer)
        marks = ",".join("?" * len(session_ids))
        sql = (
            f"SELECT m.session_id, COUNT(*) FROM messages m WHERE m.session_id IN ({marks}) "
            f"AND {cond} GROUP BY m.session_id"
        )

        def fn(conn: sqlite3.Connection) -> dict[str, int]:
            found = dict(conn.execute(sql, [*session_ids, *params]).fetchall())
            return {sid: int(found.get(sid, 0)) for sid in session_ids}

        counts: dict[str, int] = await self._reads.run(fn)
        return counts

    async def participants(self, viewer: Principal, session_id: str) -> list[str]:
        cond, params = vis.sql_filter(viewer)
        sql = (
            f"SELECT DISTINCT m.sender FROM messages m WHERE m.session_id = ? AND {cond} "
            "ORDER BY m.sender LIMIT 1000"
        )

        def fn(conn: sqlite3.Connection) -> list[str]:
            return [r[0] for r in conn.execute(sql, [session_id, *params]).fetchall()]

        found: list[str] = await self._reads.run(fn)
        return found

    # --- messages ---------------------------------------------------------------------------
    async def add_message(self, new: NewMessage, audit: AuditEvent) -> tuple[Message, bool]:
        def fn(conn: sqlite3.Connection) -> tuple[Message, bool]:
            if new.idempotency_key is not None:
                row = conn.execute(
                    f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m "
                    "WHERE m.sender = ? AND m.idempotency_key = ?",
                    (new.sender, new.idempotency_key),
                ).fetchone()
                if row is not None:
                    return rows.message(row), False
            check_session_writable(conn, new.session_id, new.sender, new.created_at)
            if new.parent_message_id is not None:
                parent = conn.execute(
                    "SELECT 1 FROM messages WHERE id = ? AND session_id = ?",
                    (new.parent_message_id, new.session_id),
                ).fetchone()
                if parent is None:
                    raise message_not_found(new.parent_message_id)
            cur = conn.execute(
                "INSERT INTO messages (session_id, sender, sender_type, content, visibility, "
                "metadata, parent_message_id, created_at, idempotency_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.session_id,
                    new.sender,
                    new.sender_type,
                    new.content,
                    new.visibility.value,
                    dumps(new.metadata),
                    new.parent_message_id,
                    new.created_at,
                    new.idempotency_key,
                ),
            )
            message_id = int(cur.lastrowid or 0)
            insert_audit(conn, _with_details(audit, message_id=message_id))
            return (
                Message(
                    id=message_id,
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

        result: tuple[Message, bool] = await self._writer.submit(fn)
        return result

    async def get_messages(self, viewer: Principal, query: MessageQuery) -> list[Message]:
        sql, params = message_query_sql(viewer, query)

        def fn(conn: sqlite3.Connection) -> list[Message]:
            return [rows.message(r) for r in conn.execute(sql, params).fetchall()]

        found: list[Message] = await self._reads.run(fn)
        return found

    async def get_message(self, session_id: str, message_id: int) -> Message | None:
        def fn(conn: sqlite3.Connection) -> Message | None:
            row = conn.execute(
                f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m "
                "WHERE m.id = ? AND m.session_id = ?",
                (message_id, session_id),
            ).fetchone()
            return rows.message(row) if row else None

        found: Message | None = await self._reads.run(fn)
        return found

    async def set_visibility(
        self, session_id: str, message_id: int, visibility: Visibility, audit: AuditEvent
    ) -> Message:
        def fn(conn: sqlite3.Connection) -> Message:
            cur = conn.execute(
                "UPDATE messages SET visibility = ? WHERE id = ? AND session_id = ?",
                (visibility.value, message_id, session_id),
            )
            if cur.rowcount == 0:
                raise NotFound("Message not found.", code=ErrorCode.MESSAGE_NOT_FOUND)
            insert_audit(conn, audit)
            row = conn.execute(
                f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?", (message_id,)
            ).fetchone()
            return rows.message(row)

        updated: Message = await self._writer.submit(fn)
        return updated

    async def recent_messages(self, session_id: str, limit: int) -> list[Message]:
        def fn(conn: sqlite3.Connection) -> list[Message]:
            cur = conn.execute(
                f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m WHERE m.session_id = ? "
                "ORDER BY m.id DESC LIMIT ?",
                (session_id, limit),
            )
            return [rows.message(r) for r in reversed(cur.fetchall())]

        found: list[Message] = await self._reads.run(fn)
        return found

    async def last_message_id(self, session_id: str) -> int:
        def fn(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT COALESCE(MAX(id), 0) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()
            return int(row[0])

        last: int = await self._reads.run(fn)
        return last

    # --- audit ------------------------------------------------------------------------------
    async def record_audit(self, event: AuditEvent) -> None:
        def fn(conn: sqlite3.Connection) -> None:
            insert_audit(conn, event)

        await self._writer.submit(fn)


def _with_details(event: AuditEvent, **extra: Any) -> AuditEvent:
    return AuditEvent(
        event_type=event.event_type,
        agent_id=event.agent_id,
        outcome=event.outcome,
        session_id=event.session_id,
        details={**event.details, **extra},
        timestamp=event.timestamp,
    )
