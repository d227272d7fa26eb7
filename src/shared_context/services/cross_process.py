"""Many processes, one blackboard (SPEC §15; docs/adr/0006-cross-process-changes.md).

Several server processes share one SQLite file. ``ChangeRelay`` carries what the others commit
into this process: the storage feed says cheaply whether anything was committed anywhere
since it last looked, and returns the change-log rows (with the messages they name already
read back). The relay publishes them on the local bus as ``origin="remote"`` events, so the
read cache bumps its versions and waiters, subscriptions and streams wake, each applying the
visibility rule to the real message exactly as for a local write.

Two paths call it: the feed's watcher thread (it checks every ``poll_seconds`` off the event
loop and wakes the relay only when something was committed: wake-ups within that, and an idle
process costs almost nothing) and ``fresh()``, which every cached read awaits first. ``fresh()``
costs one ``PRAGMA data_version`` when nothing changed, so a cache never serves data older
than the last commit of any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.storage.changes import ChangeBatch, ChangeFeed

log = logging.getLogger(__name__)

#: Reads of the change log in one catch-up (each up to the feed's own row limit).
MAX_READS_PER_CATCH_UP = 100
#: The relay also looks on its own this often, should a watcher's wake-up ever be missed.
SAFETY_POLL_SECONDS = 1.0
_KINDS = {kind.value: kind for kind in EventKind}


class ChangeRelay:
    def __init__(self, feed: ChangeFeed, bus: EventBus, *, poll_seconds: float) -> None:
        self._feed = feed
        self._bus = bus
        self._poll = poll_seconds
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._stopping = False
        self.counters = {
            "checks": 0,
            "catch_ups": 0,
            "relayed": 0,
            "own_skipped": 0,
            "resyncs": 0,
            "errors": 0,
        }
        self.last_lag_ms: float | None = None

    async def fresh(self) -> None:
        """Return once every commit made before this call (by any process) is reflected in
        this process's caches and published on its bus."""
        self.counters["checks"] += 1
        if self._feed.changed():
            await self.catch_up()

    async def catch_up(self) -> None:
        async with self._lock:
            # Whoever held the lock before may have read everything already.
            if not self._feed.changed():
                return
            self.counters["catch_ups"] += 1
            # Read until one read comes back short: then every commit made before this call is
            # in. Commits landing meanwhile move the version again for the next caller.
            for _ in range(MAX_READS_PER_CATCH_UP):
                batch = await self._feed.read()
                self._publish(batch)
                if not batch.more:
                    break

    def _publish(self, batch: ChangeBatch) -> None:
        self.counters["own_skipped"] += batch.own
        if batch.gap:
            self.counters["resyncs"] += 1
            log.warning("missed cross-process changes (trimmed before read): re-querying all")
            self._bus.publish(Event(EventKind.RESYNC, origin="remote"))
        now = time.time()
        for record in batch.records:
            kind = _KINDS.get(record.kind)
            if kind is None:
                log.warning("ignoring a change of unknown kind %r", record.kind)
                continue
            data: dict[str, Any] = {}
            if record.message is not None:
                data["message"] = record.message
                self.last_lag_ms = max(0.0, (now - record.message.created_at) * 1000)
            if kind is EventKind.VISIBILITY_CHANGED and record.detail:
                data["old_visibility"] = record.detail
            if kind is EventKind.LOCK_CHANGED and record.detail is not None:
                data["resource"] = record.detail or None
            self.counters["relayed"] += 1
            self._bus.publish(
                Event(
                    kind,
                    session_id=record.session_id,
                    agent_id=record.agent_id,
                    message_id=record.message_id,
                    data=data,
                    origin="remote",
                )
            )

    # --- watcher-driven task ------------------------------------------------------------------
    def start(self) -> None:
        if self._task is not None:
            return
        self._stopping = False
        loop = asyncio.get_running_loop()
        kick = asyncio.Event()
        self._kick = kick

        def on_change() -> None:  # from the watcher thread
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(kick.set)

        self._feed.watch(on_change, self._poll)
        self._task = loop.create_task(self._run(), name="scs-changes")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        # Ask the loop to end rather than only cancelling it: on Python 3.11 a cancellation
        # that races a completing wait can be swallowed, and the task would run on.
        self._stopping = True
        self._kick.set()
        done, _ = await asyncio.wait({task}, timeout=5.0)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        kick = self._kick
        backoff = self._poll
        while not self._stopping:
            # The watcher kicks on every commit; the timeout is a safety net that also retries
            # after a failed read.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SAFETY_POLL_SECONDS):
                    await kick.wait()
            kick.clear()
            if self._stopping:
                return
            try:
                await self.fresh()
            except Exception as exc:  # the database hiccuped: keep watching, slower
                self.counters["errors"] += 1
                log.warning("reading cross-process changes failed: %s", exc)
                backoff = min(max(backoff * 2, self._poll), 1.0)
                await asyncio.sleep(backoff)
                kick.set()  # try again
            else:
                backoff = self._poll

    def stats(self) -> dict[str, Any]:
        return {
            **self.counters,
            "own_skipped": self.counters["own_skipped"] + self._feed.own_settled,
            "poll_ms": round(self._poll * 1000, 3),
            "last_lag_ms": None if self.last_lag_ms is None else round(self.last_lag_ms, 3),
        }
