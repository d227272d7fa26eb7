"""Apply numbered migrations to a PostgreSQL schema and record the schema version.

Several instances may start at once against one database: the whole migration runs in one
transaction that first takes ``pg_advisory_xact_lock``, so exactly one instance migrates and
the others, once the lock is released at COMMIT, find the work done. The lock lives only as
long as that transaction; nothing is held across requests.
"""

from __future__ import annotations

from typing import Any

from shared_context.domain.errors import StorageError
from shared_context.storage.migrations import load
from shared_context.storage.postgres.engine import quote_ident

#: Arbitrary constant key (``hashtext`` is not stable across major versions, a literal is).
MIGRATION_LOCK_KEY = 0x5C5_0001


async def applied_versions(conn: Any) -> set[int]:
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return set()
    return {int(r[0]) for r in await conn.fetch("SELECT version FROM schema_version")}


async def migrate(conn: Any, schema: str = "") -> int:
    """Bring the schema up to date (creating ``schema`` if named); refuse a database written
    by a newer server."""
    migrations = load("postgres")
    latest = migrations[-1].version
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        if schema:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
            "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        # A set, not a maximum: numbers are pre-assigned per feature area, so a later build may
        # bring a lower number than one already applied.
        applied = await applied_versions(conn)
        current = max(applied, default=0)
        if current > latest:
            raise StorageError(
                f"The database has schema version {current}, newer than this server "
                f"understands ({latest}). Upgrade shared-context-server."
            )
        for migration in migrations:
            if migration.version in applied:
                continue
            # No arguments: asyncpg uses the simple protocol, so a file may hold many statements.
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
    return latest
