"""The connection side of the PostgreSQL adapter: pool, transactions, stats, migrations.

Feature modules use ``async with db.transaction() as conn`` (one committed transaction) and
``async with db.connection() as conn`` (reads), or ``db.write(fn)``/``db.read(fn)`` with an
``async fn(conn)``. Driver errors leave either as ``domain.errors``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from shared_context.domain.errors import StorageError
from shared_context.storage.postgres.engine import DRIVER_ERRORS, ConnectArgs, translate
from shared_context.storage.postgres.schema import migrate
from shared_context.storage.stats import StorageStats

T = TypeVar("T")

#: Arbitrary constant advisory-lock key for start-up (migrations use their own).
STARTUP_LOCK_KEY = 0x5C5_0002


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        schema: str = "",
        pool_min: int = 1,
        pool_max: int = 10,
        command_timeout: float = 30.0,
    ) -> None:
        self.connect_args = ConnectArgs.from_url(url, schema)
        self._pool_min = pool_min
        self._pool_max = pool_max
        self._timeout = command_timeout
        self._pool: Any = None
        self._stats = StorageStats()

    async def start(self) -> None:
        if self._pool is not None:
            return
        try:
            pool = await self.connect_args.create_pool(
                min_size=self._pool_min, max_size=self._pool_max, command_timeout=self._timeout
            )
        except DRIVER_ERRORS as exc:
            raise translate(exc) from exc
        try:
            async with pool.acquire() as conn:
                await migrate(conn, self.connect_args.schema)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, DRIVER_ERRORS):
                raise translate(exc) from exc
            raise
        self._pool = pool

    def change_feed(self) -> None:
        """Instances carry changes to each other with LISTEN/NOTIFY (events/pg_notify.py)."""
        return None

    @asynccontextmanager
    async def startup_lock(self) -> AsyncIterator[None]:
        """Held while an instance makes the generated secret and first keys, so instances
        starting at once do it exactly once (a session advisory lock on one connection)."""
        pool = self._require_pool()
        async with pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", STARTUP_LOCK_KEY)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", STARTUP_LOCK_KEY)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _require_pool(self) -> Any:
        if self._pool is None:
            raise StorageError("The PostgreSQL store is not started.")
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection for reads (autocommit statements)."""
        pool = self._require_pool()
        started = time.perf_counter()
        with self._stats.span("scs.db.read"):
            try:
                async with pool.acquire() as conn:
                    yield conn
            except DRIVER_ERRORS as exc:
                raise translate(exc) from exc
            finally:
                self._stats.record_read(time.perf_counter() - started)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """A connection inside one transaction, committed when the block exits normally."""
        pool = self._require_pool()
        started = time.perf_counter()
        failed = 1
        self._stats.enqueued()  # in flight until record_write_latency below
        with self._stats.span("scs.db.write"):
            try:
                async with pool.acquire() as conn, conn.transaction():
                    yield conn
                failed = 0
            except DRIVER_ERRORS as exc:
                raise translate(exc) from exc
            finally:
                elapsed = time.perf_counter() - started
                self._stats.record_batch(1, failed, elapsed)
                self._stats.record_write_latency(elapsed)

    async def read(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        async with self.connection() as conn:
            return await fn(conn)

    async def write(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        async with self.transaction() as conn:
            return await fn(conn)

    async def ping(self, timeout: float = 2.0) -> None:
        """Raise StorageError unless a pooled connection answers within ``timeout`` seconds."""

        async def probe() -> None:
            async with self.transaction() as conn:
                await conn.fetchval("SELECT 1 FROM schema_version LIMIT 1")

        try:
            await asyncio.wait_for(probe(), timeout)
        except TimeoutError as exc:
            raise StorageError("database unreachable: no answer in time") from exc

    async def maintain(self, now: float) -> dict[str, int]:
        """Purge revoked tokens past expiry (planner statistics are autovacuum's job here)."""
        async with self.transaction() as conn:
            status = await conn.execute("DELETE FROM revoked_tokens WHERE expires_at < $1", now)
        return {"revoked_tokens_purged": int(status.rsplit(" ", 1)[-1])}

    def stats(self) -> dict[str, Any]:
        return self._stats.snapshot()

    @property
    def instruments(self) -> StorageStats:
        return self._stats

    async def size_bytes(self) -> int:
        async with self.connection() as conn:
            size = await conn.fetchval(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            )
        return int(size)
