"""The SQLite change feed: ``PRAGMA data_version`` as the cheap signal, ``change_log`` as the
record (migration 0005; docs/adr/0006-cross-process-changes.md).

``PRAGMA data_version`` on one dedicated connection changes whenever any other connection —
this process's writer included — commits to the file. It costs a few microseconds and takes
no lock, so it is asked inline on the event loop before every cached read. Only when it moved
is ``change_log`` read (on the read pool).

The writer marks the log rows its own transactions add (``mark_batch``): read inside the
write transaction, under SQLite's write lock, so the range is exactly this process's. Those
rows were already published on the local bus and are skipped here, which keeps one change
from reaching a consumer twice.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared_context.storage import rows
from shared_context.storage.changes import ChangeBatch, ChangeRecord
from shared_context.storage.sqlite.engine import ReadPool, connect
from shared_context.storage.sqlite.writer import SqliteWriter

#: Rows read per ``read`` call; a caller with more to read calls again.
READ_LIMIT = 1000
#: Own ranges remembered (a batch adds one); older ones are behind every reader anyway.
MAX_OWN_RANGES = 4096

_LAST_SEQ = "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'"


def last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute(_LAST_SEQ).fetchone()
    return int(row[0]) if row else 0


class OwnRanges:
    """Sequence ranges (lo, hi] that this process's writer committed; thread-safe."""

    def __init__(self) -> None:
        self._ranges: deque[tuple[int, int]] = deque(maxlen=MAX_OWN_RANGES)
        self._lock = threading.Lock()

    def add(self, lo: int, hi: int) -> None:
        with self._lock:
            self._ranges.append((lo, hi))

    def discard(self, lo: int, hi: int) -> None:
        with self._lock:
            if (lo, hi) in self._ranges:
                self._ranges.remove((lo, hi))

    def contains(self, seq: int) -> bool:
        with self._lock:
            return any(lo < seq <= hi for lo, hi in self._ranges)

    def covers(self, lo: int, hi: int) -> bool:
        """Whether every sequence number in (lo, hi] is this process's own. Ranges are added
        in commit order (one writer), so one pass over them decides."""
        with self._lock:
            reached = lo
            for start, end in self._ranges:
                if end <= reached:
                    continue
                if start > reached:
                    return False  # a hole: someone else committed there
                reached = end
                if reached >= hi:
                    return True
            return reached >= hi

    def forget_through(self, seq: int) -> None:
        with self._lock:
            while self._ranges and self._ranges[0][1] <= seq:
                self._ranges.popleft()


class BatchMarks:
    """Writer hooks: record which change-log rows one write transaction adds."""

    def __init__(self, own: OwnRanges) -> None:
        self._own = own

    def before(self, conn: sqlite3.Connection) -> int:
        return last_seq(conn)

    def after(self, conn: sqlite3.Connection, lo: int) -> tuple[int, int] | None:
        hi = last_seq(conn)
        if hi <= lo:
            return None
        self._own.add(lo, hi)
        return (lo, hi)

    def failed(self, marked: tuple[int, int] | None) -> None:
        """The COMMIT failed: those sequence numbers were never committed (may be reused)."""
        if marked is not None:
            self._own.discard(*marked)


class SqliteChangeFeed:
    def __init__(self, path: Path, reads: ReadPool, writer: SqliteWriter, busy_ms: int) -> None:
        self._path = path
        self._reads = reads
        self._writer = writer
        self._busy = busy_ms
        self.own = OwnRanges()
        self.marks = BatchMarks(self.own)
        self._watch: sqlite3.Connection | None = None
        self._seen_version = -1
        self._last_seq = 0
        #: Own change-log rows settled by ``changed`` without a read (not in any batch).
        self.own_settled = 0
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    async def start(self) -> None:
        """Begin at the present: changes committed before this process started are not news."""
        conn = connect(self._path, busy_timeout_ms=self._busy, synchronous="NORMAL", readonly=True)
        conn.execute("PRAGMA query_only = ON")
        self._watch = conn
        self._seen_version = self._data_version()
        self._last_seq = last_seq(conn)

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def watch(self, on_change: Callable[[], None], interval: float) -> None:
        """A thread with its own connection asks ``PRAGMA data_version`` every ``interval``
        and calls ``on_change`` when it moved. Off the event loop: an idle server wakes its
        loop only when something was committed."""
        if self._watcher is not None:
            return
        self._stop.clear()
        conn = connect(self._path, busy_timeout_ms=self._busy, synchronous="NORMAL", readonly=True)

        def run() -> None:
            try:
                seen = int(conn.execute("PRAGMA data_version").fetchone()[0])
                while not self._stop.wait(interval):
                    try:
                        now = int(conn.execute("PRAGMA data_version").fetchone()[0])
                    except sqlite3.Error:
                        continue  # a passing fault; the next tick asks again
                    if now != seen:
                        seen = now
                        on_change()
            finally:
                conn.close()

        self._watcher = threading.Thread(target=run, name="scs-change-watch", daemon=True)
        self._watcher.start()

    def _data_version(self) -> int:
        assert self._watch is not None
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        """Whether another process committed since the last look. ``data_version`` moves on
        this process's own commits too; when the change log holds nothing past the last read
        but our own rows (the common case: we are the only writer), that is settled here with
        one more tiny inline query instead of a read-pool round trip that every cached read
        would queue behind (issue 15: a convoy on the relay's lock under load)."""
        if self._watch is None:
            return False
        try:
            version = self._data_version()
            if version == self._seen_version:
                return False
            top = last_seq(self._watch)
        except sqlite3.Error:
            return True  # let ``read`` try, and report, the database's trouble
        if top < self._last_seq:
            return True  # the log went backwards (restored file?): let ``read`` sort it out
        if top == self._last_seq or self.own.covers(self._last_seq, top):
            # Everything new is ours and already published on the local bus. A commit after
            # ``version`` was read moves it again, so nothing is skipped for good.
            self.own_settled += top - self._last_seq
            self._last_seq = top
            self.own.forget_through(top)
            self._seen_version = version
            return False
        return True

    async def read(self) -> ChangeBatch:
        if self._watch is None:
            return ChangeBatch()
        # Observe the version first: whatever commits after this point moves it again, so a
        # change committed while we read below is never lost, at worst read twice (skipped by
        # sequence number).
        version = self._data_version()
        after = self._last_seq

        def fn(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT c.seq, c.kind, c.session_id, c.agent_id, c.message_id, c.detail, "
                f"{rows.MESSAGE_COLUMNS} FROM change_log c "
                "LEFT JOIN messages m ON m.id = c.message_id "
                "WHERE c.seq > ? ORDER BY c.seq LIMIT ?",
                (after, READ_LIMIT),
            ).fetchall()

        found = await self._reads.run(fn)
        # Sequence numbers have no holes (a rolled-back insert gives its number back), so a
        # jump means rows were trimmed before this process read them.
        gap = bool(found) and int(found[0][0]) > after + 1
        records: list[ChangeRecord] = []
        own = 0
        for row in found:
            seq = int(row[0])
            if self.own.contains(seq):
                own += 1
                continue
            records.append(
                ChangeRecord(
                    seq=seq,
                    kind=str(row[1]),
                    session_id=row[2],
                    agent_id=row[3],
                    message_id=row[4],
                    detail=row[5],
                    message=rows.message(row[6:]) if row[6] is not None else None,
                )
            )
        if found:
            self._last_seq = int(found[-1][0])
            self.own.forget_through(self._last_seq)
        more = len(found) >= READ_LIMIT
        if not more:
            self._seen_version = version  # caught up with everything that version covers
        return ChangeBatch(records=records, gap=gap, own=own, more=more)

    async def trim(self, older_than: float) -> int:
        def fn(conn: sqlite3.Connection) -> int:
            # Keep the newest row even when old: sqlite_sequence keeps the counter anyway,
            # and min(seq) must not jump past a reader that is exactly caught up.
            cur = conn.execute(
                "DELETE FROM change_log WHERE at < ? AND seq < (SELECT max(seq) FROM change_log)",
                (older_than,),
            )
            return int(cur.rowcount)

        deleted: int = await self._writer.submit(fn)
        return deleted
