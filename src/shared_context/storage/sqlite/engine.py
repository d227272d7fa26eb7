"""SQLite connections, all configured alike, and the read pool.

Reads run as whole functions on a small pool of threads, each owning one connection, so a
read that needs several statements costs one hop off the event loop instead of one per
statement (see docs/adr/0002-sqlite-threads.md for why not aiosqlite/aiosqlitepool).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from shared_context.domain.errors import StorageError
from shared_context.storage.stats import StorageStats

T = TypeVar("T")

ReadFn = Callable[[sqlite3.Connection], T]

log = logging.getLogger(__name__)


def connect(
    path: Path, *, busy_timeout_ms: int, synchronous: str, readonly: bool
) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(
        uri, uri=True, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -16000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
    return conn


class ReadPool:
    def __init__(self, path: Path, size: int, busy_timeout_ms: int, stats: StorageStats) -> None:
        self._path = path
        self._busy = busy_timeout_ms
        self._stats = stats
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="scs-read")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(
                self._path, busy_timeout_ms=self._busy, synchronous="NORMAL", readonly=True
            )
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _run(self, fn: ReadFn[T]) -> T:
        started = time.perf_counter()
        try:
            return fn(self._conn())
        except sqlite3.Error as exc:  # driver errors do not leave the storage layer
            log.warning("read failed: %s", exc)
            raise StorageError("The database could not complete the read; try again.") from exc
        finally:
            self._stats.record_read(time.perf_counter() - started)

    async def run(self, fn: ReadFn[T]) -> T:
        loop = asyncio.get_running_loop()
        with self._stats.span("scs.db.read"):
            return await loop.run_in_executor(self._executor, self._run, fn)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
