"""Bridging the in-process event bus across instances with PostgreSQL LISTEN/NOTIFY.

Each instance keeps ONE dedicated connection (not from the pool) that LISTENs on the channel
of its schema and also sends this instance's NOTIFYs. Outgoing: a bus forwarder (locally
originated events only) queues ``{instance, kind, session, message, agent}`` — ids only (plus
a visibility change's old visibility value), never content. Incoming: events from other
instances are re-published on the local bus with ``origin="remote"``; our own are skipped.
With a ``resolve`` hook (bootstrap passes one that re-reads the message from the shared
database) each event is completed before it is published, in arrival order, so consumers
apply the visibility rule to the message exactly as for a local write.

After a dropped connection the bridge reconnects with exponential backoff and
publishes ``EventKind.RESYNC`` so waiters and subscribers re-query what they might have missed.
Queued outgoing events survive a reconnect (bounded; the oldest are dropped and counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from shared_context.events.bus import Event, EventBus, EventKind

log = logging.getLogger(__name__)

Connect = Callable[[], Awaitable[Any]]
Resolve = Callable[[Event], Awaitable[Event]]
_FORWARDED = frozenset(EventKind) - {EventKind.RESYNC}
_SEND_BATCH = 200


def channel_for(schema: str) -> str:
    """One channel per schema, so deployments (or test runs) sharing a database stay apart."""
    return ("scs_events_" + schema)[:63]


def encode(instance_id: str, event: Event) -> str:
    body: dict[str, Any] = {
        "i": instance_id,
        "k": event.kind.value,
        "s": event.session_id,
        "m": event.message_id,
        "a": event.agent_id,
    }
    old = event.data.get("old_visibility")
    if isinstance(old, str):
        body["o"] = old[:20]
    return json.dumps(body, separators=(",", ":"))


def decode(payload: str) -> tuple[str, Event] | None:
    """The sender's instance id and the event, or None for a payload we do not understand."""
    try:
        raw = json.loads(payload)
        kind = EventKind(raw["k"])
        message_id = raw.get("m")
        old = raw.get("o")
        event = Event(
            kind,
            session_id=_opt_str(raw.get("s")),
            agent_id=_opt_str(raw.get("a")),
            message_id=int(message_id) if message_id is not None else None,
            data={"old_visibility": str(old)[:20]} if old is not None else {},
            origin="remote",
        )
        return str(raw["i"]), event
    except (ValueError, KeyError, TypeError):
        return None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)[:200]


class PgNotifyBridge:
    def __init__(
        self,
        bus: EventBus,
        connect: Connect,
        *,
        instance_id: str | None = None,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
        heartbeat_seconds: float = 15.0,
        queue_max: int = 10_000,
        resolve: Resolve | None = None,
    ) -> None:
        self.instance_id = instance_id or secrets.token_hex(8)
        self._bus = bus
        self._connect = connect
        self._backoff = (backoff_initial, backoff_max)
        self._heartbeat = heartbeat_seconds
        self._pending: deque[str] = deque()
        self._queue_max = queue_max
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resolve = resolve
        self._incoming: asyncio.Queue[Event] = asyncio.Queue()
        self._delivery: asyncio.Task[None] | None = None
        self._stopping = False
        self.channel = ""
        self.backend_pid: int | None = None
        self.counters = {"sent": 0, "received": 0, "dropped": 0, "connects": 0, "resyncs": 0}
        bus.add_forwarder(self._forward)

    async def start(self, *, timeout: float = 10.0) -> None:
        """Start the bridge and wait (bounded) until it listens."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="scs-pg-notify")
        if self._resolve is not None and self._delivery is None:
            self._delivery = asyncio.create_task(self._deliver(), name="scs-pg-notify-in")
        waiter = asyncio.ensure_future(self.connected.wait())
        done, _ = await asyncio.wait(
            {waiter, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            log.warning("event bridge not listening yet; it keeps retrying in the background")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in (self._task, self._delivery):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._delivery = None

    def stats(self) -> dict[str, Any]:
        return {**self.counters, "pending": len(self._pending), "connected": self.is_connected}

    @property
    def is_connected(self) -> bool:
        return self.connected.is_set()

    # --- outgoing ----------------------------------------------------------------------------
    def _forward(self, event: Event) -> None:
        if event.kind not in _FORWARDED:
            return
        if len(self._pending) >= self._queue_max:
            self._pending.popleft()
            self.counters["dropped"] += 1
        self._pending.append(encode(self.instance_id, event))
        self._wake.set()

    # --- incoming ----------------------------------------------------------------------------
    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        decoded = decode(payload)
        if decoded is None:
            log.warning("ignoring a malformed cross-instance event")
            return
        sender, event = decoded
        if sender == self.instance_id:
            return
        self.counters["received"] += 1
        self._publish(event)

    def _publish(self, event: Event) -> None:
        if self._resolve is None:
            self._bus.publish(event)
        else:
            self._incoming.put_nowait(event)

    async def _deliver(self) -> None:
        """Complete incoming events one at a time (keeping their order), then publish."""
        assert self._resolve is not None
        while True:
            event = await self._incoming.get()
            try:
                event = await self._resolve(event)
            except Exception:  # the database hiccuped: consumers still get the bare event
                log.warning("could not complete a cross-instance %s event", event.kind)
            self._bus.publish(event)

    def _on_lost(self, _conn: Any) -> None:
        self._lost.set()
        self._wake.set()

    # --- connection loop ---------------------------------------------------------------------
    async def _run(self) -> None:
        delay = self._backoff[0]
        while not self._stopping:
            conn: Any = None
            try:
                conn = await self._connect()
                self._lost.clear()
                conn.add_termination_listener(self._on_lost)
                schema = await conn.fetchval("SELECT current_schema()")
                self.channel = channel_for(str(schema))
                await conn.add_listener(self.channel, self._on_notify)
                self.backend_pid = conn.get_server_pid()
                self.counters["connects"] += 1
                delay = self._backoff[0]
                self.connected.set()
                if self.counters["connects"] > 1:
                    # Anything published elsewhere while we were away was not delivered to us.
                    self.counters["resyncs"] += 1
                    self._publish(Event(EventKind.RESYNC, origin="remote"))
                await self._pump(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any driver/network failure: reconnect after a pause
                log.warning("event bridge connection failed: %s", exc)
            finally:
                self.connected.clear()
                if conn is not None:
                    await _close_quietly(conn)
            if not self._stopping:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff[1])

    async def _pump(self, conn: Any) -> None:
        while not self._stopping and not self._lost.is_set():
            if not self._pending:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._heartbeat)
                except TimeoutError:
                    await conn.fetchval("SELECT 1", timeout=self._heartbeat)
                continue
            batch = list(self._pending)[:_SEND_BATCH]
            dropped = self.counters["dropped"]
            await conn.execute(
                "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) "
                "ORDER BY n",
                self.channel,
                batch,
            )
            # Items dropped for space while we sent came from the front, i.e. from this batch.
            for _ in range(len(batch) - (self.counters["dropped"] - dropped)):
                self._pending.popleft()
            self.counters["sent"] += len(batch)
        if self._lost.is_set():
            raise ConnectionError("LISTEN connection lost")


async def _close_quietly(conn: Any) -> None:
    try:
        await asyncio.wait_for(conn.close(), 2.0)
    except Exception:  # already broken: drop it without a goodbye
        conn.terminate()
