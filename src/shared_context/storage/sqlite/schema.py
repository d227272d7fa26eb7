"""Apply numbered migrations to a SQLite database and record the schema version."""

from __future__ import annotations

import sqlite3

from shared_context.domain.errors import StorageError
from shared_context.storage.migrations import load


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; refuse a database written by a newer server."""
    migrations = load("sqlite")
    latest = migrations[-1].version
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {int(r[0]) for r in conn.execute("SELECT version FROM schema_version")}
        current = max(applied, default=0)
        if current > latest:
            raise StorageError(
                f"The database has schema version {current}, newer than this server "
                f"understands ({latest}). Upgrade shared-context-server."
            )
        for migration in migrations:
            # Numbers are pre-assigned per feature area and may land in any order: apply
            # every one not yet recorded rather than only those above the highest.
            if migration.version in applied:
                continue
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version VALUES (?, ?, datetime('now'))",
                (migration.version, migration.name),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return latest


def _statements(sql: str) -> list[str]:
    """Split a migration into statements; triggers (BEGIN … END;) stay whole."""
    out: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer:
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                out.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        out.append(buffer.strip())
    return out
