"""The single SQLite writer, with group commit.

Callers hand a function to ``submit`` and await its result. One thread owns the write
connection: it takes everything queued (up to ``batch_max``), runs each function inside its own
SAVEPOINT within one ``BEGIN IMMEDIATE … COMMIT``, and only after COMMIT returns answers the
callers. A function that raises rolls back to its savepoint and fails only its own caller; a
failed COMMIT fails the whole batch. Nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from shared_context.domain.errors import ErrorCode, StorageError
from shared_context.storage.stats import StorageStats

T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], T]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    queued_at: float
    span: Any = None  # the caller's write span, when tracing


_STOP = object()


class BatchObserver(Protocol):
    """Told about each write transaction from inside it (e.g. to mark its change-log rows)."""

    def before(self, conn: sqlite3.Connection) -> int: ...

    def after(self, conn: sqlite3.Connection, lo: int) -> tuple[int, int] | None: ...

    def failed(self, marked: tuple[int, int] | None) -> None: ...


def translate(exc: sqlite3.Error) -> StorageError:
    text = str(exc).lower()
    if "full" in text:
        return StorageError("The database disk is full.", code=ErrorCode.STORAGE_FULL)
    return StorageError("The database could not complete the write; try again.")


class SqliteWriter:
    def __init__(
        self,
        conn_factory: Callable[[], sqlite3.Connection],
        *,
        batch_max: int,
        queue_max: int,
        stats: StorageStats,
    ) -> None:
        self._conn_factory = conn_factory
        self._batch_max = batch_max
        self._queue: queue.Queue[Any] = queue.Queue()
        self._slots = asyncio.Semaphore(queue_max)
        self._stats = stats
        self._thread: threading.Thread | None = None
        self._closed = False
        self.observer: BatchObserver | None = None

    def start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            try:
                conn = self._conn_factory()
            except BaseException as exc:  # reported to start() below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                self._loop(conn)
            finally:
                conn.close()

        self._thread = threading.Thread(target=main, name="scs-writer", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    async def submit(self, fn: WriteFn[T]) -> T:
        if self._closed:
            raise StorageError("The server is shutting down; the write was not accepted.")
        async with self._slots:
            if self._closed:  # closed while this caller waited for a queue slot
                raise StorageError("The server is shutting down; the write was not accepted.")
            loop = asyncio.get_running_loop()
            future: asyncio.Future[T] = loop.create_future()
            with self._stats.span("scs.db.write") as span:
                self._stats.enqueued()
                self._queue.put(_Job(fn, future, loop, time.perf_counter(), span))
                return await future

    async def submit_outside_transaction(self, fn: WriteFn[T]) -> T:
        """Run ``fn`` on the write connection between batches (checkpoints, PRAGMA optimize)."""

        def marked(conn: sqlite3.Connection) -> T:
            return fn(conn)

        marked.outside_transaction = True  # type: ignore[attr-defined]
        return await self.submit(marked)

    async def close(self) -> None:
        """Commit everything already queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        thread = self._thread
        if thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, thread.join)

    # --- writer thread -------------------------------------------------------------------

    def _loop(self, conn: sqlite3.Connection) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch: list[_Job] = [first]
            while len(batch) < self._batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            if self._stats.tracing.enabled:
                parents = [job.span for job in batch if job.span is not None]
                with self._stats.tracing.span_for(
                    "scs.db.write_batch", parents, {"scs.db.batch_size": len(batch)}
                ):
                    self._run_batch(conn, batch)
            else:
                self._run_batch(conn, batch)

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        inside: list[_Job] = []
        for job in batch:
            if getattr(job.fn, "outside_transaction", False):
                self._run_alone(conn, job)
            else:
                inside.append(job)
        if not inside:
            return
        batch = inside
        started = time.perf_counter()
        outcomes: list[tuple[bool, Any]] = []
        errors = 0
        observer = self.observer
        marked: tuple[int, int] | None = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            lo = observer.before(conn) if observer is not None else 0
            for job in batch:
                conn.execute("SAVEPOINT w")
                try:
                    result = job.fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO w")
                    conn.execute("RELEASE w")
                    errors += 1
                    if isinstance(exc, sqlite3.Error):
                        log.warning("write failed: %s", exc)
                        outcomes.append((False, translate(exc)))
                    else:
                        outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE w")
                    outcomes.append((True, result))
            if observer is not None:
                marked = observer.after(conn, lo)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("write batch of %d failed to commit: %s", len(batch), exc)
            if observer is not None:
                observer.failed(marked)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = translate(exc)
            outcomes = [(False, failure)] * len(batch)
            errors = len(batch)
        elapsed = time.perf_counter() - started
        self._stats.record_batch(len(batch), errors, elapsed)
        done = time.perf_counter()
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            self._stats.record_write_latency(done - job.queued_at)
            _settle_job(job, ok, value)

    def _run_alone(self, conn: sqlite3.Connection, job: _Job) -> None:
        started = time.perf_counter()
        try:
            result = job.fn(conn)
        except Exception as exc:
            self._stats.record_batch(1, 1, time.perf_counter() - started)
            self._stats.record_write_latency(time.perf_counter() - job.queued_at)
            _settle_job(job, False, translate(exc) if isinstance(exc, sqlite3.Error) else exc)
            return
        self._stats.record_batch(1, 0, time.perf_counter() - started)
        self._stats.record_write_latency(time.perf_counter() - job.queued_at)
        _settle_job(job, True, result)


def _settle_job(job: _Job, ok: bool, value: Any) -> None:
    try:
        job.loop.call_soon_threadsafe(_settle, job.future, ok, value)
    except RuntimeError:  # the caller's event loop is gone; nobody is waiting
        log.warning("a write committed after its caller's event loop closed")


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
