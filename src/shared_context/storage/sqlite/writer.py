"""The single SQLite writer, with group commit.

Callers hand a function to ``submit`` and await its result. One thread owns the write
connection: it takes everything queued (up to ``batch_max``), runs each function inside its own
SAVEPOINT within one ``BEGIN IMMEDIATE … COMMIT``, and only after COMMIT returns answers the
callers. A function that raises rolls back to its savepoint and fails only its own caller; a
failed COMMIT fails the whole batch. Nothing is acknowledged before it is durable.

Disk full (SPEC §19): a write that hits SQLITE_FULL answers STORAGE_FULL and marks the store
``storage_full`` (``/health`` reports it). While marked, every batch first tries
``PRAGMA wal_checkpoint(TRUNCATE)``: the WAL grown by the failed attempts is folded back into
the database file and truncated to zero, so the space freed on the volume is usable again
(without it only a few writes fit after freeing space). A checkpoint itself needs room: the
main file grows by up to the WAL's size. So after every commit the writer also keeps the WAL
smaller than the volume's free space (one ``stat`` and one ``statvfs``, microseconds),
checkpointing early when it is not; the WAL can then never be what fills the disk, and a
checkpoint can always complete. Writes that still fit are served
meanwhile. The mark is cleared by ``reclaim`` once the store sees enough free space on the
volume (``SqliteStore.recover_space``). Reads never go through the writer and keep working.
"""

from __future__ import annotations

import asyncio
import logging
import os
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


SQLITE_FULL = 13


def is_disk_full(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == SQLITE_FULL:
        return True
    return isinstance(exc, sqlite3.Error) and "full" in str(exc).lower()


class BatchObserver(Protocol):
    """Told about each write transaction from inside it (e.g. to mark its change-log rows)."""

    def before(self, conn: sqlite3.Connection) -> int: ...

    def after(self, conn: sqlite3.Connection, lo: int) -> tuple[int, int] | None: ...

    def failed(self, marked: tuple[int, int] | None) -> None: ...


def translate(exc: sqlite3.Error) -> StorageError:
    if is_disk_full(exc):
        return StorageError(
            "The database disk is full: writes are refused until space is freed; reads still work.",
            code=ErrorCode.STORAGE_FULL,
        )
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
        self.storage_full = False
        self.full_events = 0
        self.space_recoveries = 0
        self.early_checkpoints = 0
        self._wal: str | None = None
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
        row = conn.execute("PRAGMA database_list").fetchone()
        self._wal = f"{row[2]}-wal" if row is not None and row[2] else None
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
        if self.storage_full:
            self._reclaim(conn)
        started = time.perf_counter()
        outcomes = self._attempt(conn, batch)
        retry = [i for i, (ok, value) in enumerate(outcomes) if not ok and _full(value)]
        if retry and self._reclaim(conn):
            # The volume was full of our own WAL (auto-checkpoints run only every ~4 MB):
            # with the WAL folded back and truncated, the writes that did not fit are tried
            # once more. They were rolled back, so running them again is running them once.
            again = self._attempt(conn, [batch[i] for i in retry])
            for i, outcome in zip(retry, again, strict=True):
                outcomes[i] = outcome
        if any(not ok and _full(value) for ok, value in outcomes):
            self._mark_full()
        else:
            self._bound_wal(conn)
        errors = sum(1 for ok, _ in outcomes if not ok)
        elapsed = time.perf_counter() - started
        self._stats.record_batch(len(batch), errors, elapsed)
        done = time.perf_counter()
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            self._stats.record_write_latency(done - job.queued_at)
            _settle_job(job, ok, value)

    def _attempt(self, conn: sqlite3.Connection, batch: list[_Job]) -> list[tuple[bool, Any]]:
        """One BEGIN IMMEDIATE … COMMIT over ``batch``, a savepoint per job."""
        outcomes: list[tuple[bool, Any]] = []
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
        return outcomes

    def _bound_wal(self, conn: sqlite3.Connection) -> None:
        """Checkpoint early when the WAL is no longer smaller than the volume's free space."""
        if self._wal is None:
            return
        try:
            wal = os.stat(self._wal).st_size
            if wal == 0:
                return
            vfs = os.statvfs(os.path.dirname(self._wal) or ".")
        except OSError:
            return
        if wal >= vfs.f_bavail * vfs.f_frsize and self._reclaim(conn):
            self.early_checkpoints += 1

    def _mark_full(self) -> None:
        if not self.storage_full:
            log.error("the database disk is full: writes answer STORAGE_FULL until space frees")
        self.storage_full = True
        self.full_events += 1

    def _reclaim(self, conn: sqlite3.Connection) -> bool:
        """Fold the WAL back into the database and truncate it (see the module docstring)."""
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            log.debug("checkpoint while the disk is full failed: %s", exc)
            return False
        if busy:
            return False
        self.space_recoveries += 1
        return True

    async def reclaim(self) -> bool:
        """While marked full: checkpoint(TRUNCATE) between batches; True when it succeeded
        (the mark is then cleared; the next write that does not fit sets it again)."""
        if not self.storage_full:
            return False

        def fn(conn: sqlite3.Connection) -> bool:
            done = self._reclaim(conn)
            if done:
                self.storage_full = False
                log.warning("database writes resumed: disk space is available again")
            return done

        return await self.submit_outside_transaction(fn)

    def _run_alone(self, conn: sqlite3.Connection, job: _Job) -> None:
        started = time.perf_counter()
        try:
            result = job.fn(conn)
        except Exception as exc:
            self._stats.record_batch(1, 1, time.perf_counter() - started)
            self._stats.record_write_latency(time.perf_counter() - job.queued_at)
            failure = translate(exc) if isinstance(exc, sqlite3.Error) else exc
            if _full(failure):
                self._mark_full()
            _settle_job(job, False, failure)
            return
        self._stats.record_batch(1, 0, time.perf_counter() - started)
        self._stats.record_write_latency(time.perf_counter() - job.queued_at)
        _settle_job(job, True, result)


def _full(value: Any) -> bool:
    return isinstance(value, StorageError) and value.code is ErrorCode.STORAGE_FULL


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
