"""API keys, revoked tokens and server secrets on SQLite (a part of ``SqliteStore``)."""

from __future__ import annotations

import json
import sqlite3

from shared_context.domain.models import ApiKey
from shared_context.storage import rows
from shared_context.storage.sqlite.engine import ReadPool
from shared_context.storage.sqlite.writer import SqliteWriter


class KeyTables:
    """Mixed into ``SqliteStore``, which provides the writer and the read pool."""

    _writer: SqliteWriter
    _reads: ReadPool

    async def get_or_create_secret(self, name: str, candidate: str) -> str:
        def fn(conn: sqlite3.Connection) -> str:
            conn.execute(
                "INSERT OR IGNORE INTO server_secrets (name, value) VALUES (?, ?)",
                (name, candidate),
            )
            row = conn.execute(
                "SELECT value FROM server_secrets WHERE name = ?", (name,)
            ).fetchone()
            return str(row[0])

        result: str = await self._writer.submit(fn)
        return result

    async def add_api_key(self, key: ApiKey, key_hash: str) -> bool:
        def fn(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO api_keys "
                "(key_id, name, key_hash, permissions, created_at, agents) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key.key_id,
                    key.name,
                    key_hash,
                    json.dumps(sorted(p.value for p in key.permissions)),
                    key.created_at,
                    json.dumps(list(key.agents)),
                ),
            )
            return cur.rowcount == 1

        added: bool = await self._writer.submit(fn)
        return added

    async def bind_api_key(self, key_id: str, agents: tuple[str, ...]) -> None:
        def fn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE api_keys SET agents = ? WHERE key_id = ?",
                (json.dumps(list(agents)), key_id),
            )

        await self._writer.submit(fn)

    async def find_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        def fn(conn: sqlite3.Connection) -> ApiKey | None:
            row = conn.execute(
                f"SELECT {rows.KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,)
            ).fetchone()
            return rows.api_key(row) if row else None

        found: ApiKey | None = await self._reads.run(fn)
        return found

    async def list_api_keys(self) -> list[ApiKey]:
        def fn(conn: sqlite3.Connection) -> list[ApiKey]:
            cur = conn.execute(f"SELECT {rows.KEY_COLUMNS} FROM api_keys ORDER BY created_at")
            return [rows.api_key(r) for r in cur.fetchall()]

        keys: list[ApiKey] = await self._reads.run(fn)
        return keys

    async def revoke_api_key(self, name_or_id: str, at: float) -> bool:
        def fn(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = ? "
                "WHERE (name = ? OR key_id = ?) AND revoked_at IS NULL",
                (at, name_or_id, name_or_id),
            )
            return cur.rowcount > 0

        revoked: bool = await self._writer.submit(fn)
        return revoked

    async def revoke_token(self, jti: str, expires_at: float) -> bool:
        def fn(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
                (jti, expires_at),
            )
            return cur.rowcount == 1

        claimed: bool = await self._writer.submit(fn)
        return claimed

    async def token_revocation(self, jti: str, key_id: str) -> tuple[bool, bool]:
        def fn(conn: sqlite3.Connection) -> tuple[bool, bool]:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?), "
                "NOT EXISTS (SELECT 1 FROM api_keys WHERE key_id = ? AND revoked_at IS NULL)",
                (jti, key_id),
            ).fetchone()
            return bool(row[0]), bool(row[1])

        result: tuple[bool, bool] = await self._reads.run(fn)
        return result
