"""Who is around: declared status plus a last-seen time refreshed by every authenticated call.

Refreshing last_seen must not cost a database write per call. Touches are kept in memory and
flushed in one batched write about once a second (the ``presence_flush`` maintenance job, and a
final flush on shutdown); reads merge the pending touches with the table, so
``get_active_agents`` is exact even between flushes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from shared_context.domain.clock import Clock
from shared_context.domain.coordination import (
    WITHIN_MAX_SECONDS,
    WITHIN_MIN_SECONDS,
    Presence,
    PresenceStatus,
    PresenceStatusName,
    parse_status,
)
from shared_context.domain.models import Principal
from shared_context.domain.permissions import Permission, require
from shared_context.domain.validation import check_int, check_metadata
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.audit import AuditRecorder
from shared_context.services.results import ActiveAgents, PresenceResult, presence_shape
from shared_context.services.sessions import SessionService
from shared_context.storage.coordination import CoordinationStore

log = logging.getLogger(__name__)

MAX_LISTED = 1000
FLUSH_EARLY_AT = 10_000  # pending touches that trigger a flush before the interval ends


class PresenceService:
    def __init__(
        self,
        store: CoordinationStore,
        sessions: SessionService,
        bus: EventBus,
        audit: AuditRecorder,
        clock: Clock,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._bus = bus
        self._audit = audit
        self._clock = clock
        self._pending: dict[str, tuple[str, float]] = {}
        self._flushing: dict[str, tuple[str, float]] = {}
        self._early: asyncio.Task[int] | None = None
        self._flush_lock = asyncio.Lock()
        self.flushes = 0

    # --- last-seen touches ----------------------------------------------------------------------
    def touch(self, principal: Principal) -> None:
        """Called for every verified caller; memory only, never blocks."""
        self._pending[principal.agent_id] = (principal.agent_type, self._clock.now())
        if len(self._pending) >= FLUSH_EARLY_AT and (self._early is None or self._early.done()):
            self._early = asyncio.get_running_loop().create_task(self.flush())
            self._early.add_done_callback(_report)

    async def flush(self) -> int:
        """Write pending touches in one batch; returns how many agents were written."""
        async with self._flush_lock:
            if not self._pending:
                return 0
            self._flushing, self._pending = self._pending, {}
            try:
                await self._store.touch_presence(
                    [(agent, kind, seen) for agent, (kind, seen) in self._flushing.items()]
                )
            except BaseException:
                # Keep what failed to commit so the next flush retries it (newer touches win).
                for agent, value in self._flushing.items():
                    self._pending.setdefault(agent, value)
                raise
            finally:
                written = len(self._flushing)
                self._flushing = {}
            self.flushes += 1
            return written

    async def close(self) -> None:
        """Write what is pending (on shutdown)."""
        if self._early is not None:
            await asyncio.wait([self._early])
        await self.flush()

    # --- use cases --------------------------------------------------------------------------------
    async def register(
        self,
        principal: Principal,
        status: PresenceStatusName = "active",
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> PresenceResult:
        require(principal, Permission.WRITE)
        state = parse_status(status)
        meta = check_metadata(metadata)
        sid = None
        if session_id is not None:
            sid = (await self._sessions.require_session(session_id)).session_id
        now = self._clock.now()
        presence = Presence(
            agent_id=principal.agent_id,
            agent_type=principal.agent_type,
            status=state,
            session_id=sid,
            last_seen=now,
            metadata=meta,
        )
        await self._store.upsert_presence(
            presence,
            self._audit.event(
                "register_agent_presence", principal, session_id=sid, status=state.value
            ),
        )
        self._bus.publish(
            Event(
                EventKind.PRESENCE_CHANGED,
                session_id=sid,
                agent_id=principal.agent_id,
                data={"status": state.value},
            )
        )
        return PresenceResult(**presence_shape(presence).model_dump())

    async def active(
        self, principal: Principal, session_id: str | None = None, within_seconds: int = 300
    ) -> ActiveAgents:
        require(principal, Permission.READ)
        window = check_int(
            within_seconds, "within_seconds", low=WITHIN_MIN_SECONDS, high=WITHIN_MAX_SECONDS
        )
        sid = None
        if session_id is not None:
            sid = (await self._sessions.require_session(session_id)).session_id
        agents = await self.seen_since(self._clock.now() - window, sid)
        return ActiveAgents(
            agents=[presence_shape(p) for p in agents],
            count=len(agents),
            within_seconds=window,
        )

    async def seen_since(self, cutoff: float, session_id: str | None) -> list[Presence]:
        """Agents seen at or after ``cutoff`` and not declared offline, most recent first."""
        touches = {**self._flushing, **self._pending}
        stored = {
            p.agent_id: p
            for p in await self._store.list_presence(
                seen_since=cutoff, session_id=None, limit=MAX_LISTED * 10
            )
        }
        missing = [a for a, (_, seen) in touches.items() if seen >= cutoff and a not in stored]
        for p in await self._store.get_presence(missing):
            stored[p.agent_id] = p
        merged: list[Presence] = []
        for agent in set(stored) | set(missing):
            row = stored.get(agent)
            kind, touched = touches.get(agent, ("", 0.0))
            if row is None:
                row = Presence(agent, kind, PresenceStatus.ACTIVE, None, touched)
            elif touched > row.last_seen:
                row = Presence(
                    row.agent_id, kind, row.status, row.session_id, touched, row.metadata
                )
            if row.last_seen < cutoff or row.status is PresenceStatus.OFFLINE:
                continue
            if session_id is not None and row.session_id != session_id:
                continue
            merged.append(row)
        merged.sort(key=lambda p: (-p.last_seen, p.agent_id))
        return merged[:MAX_LISTED]

    async def count_active(self, within_seconds: int = 300) -> int:
        """How many agents were seen in the window (not capped like the listing)."""
        cutoff = self._clock.now() - within_seconds
        touches = {**self._flushing, **self._pending}
        recent = [agent for agent, (_, seen) in touches.items() if seen >= cutoff]
        count = await self._store.count_presence(seen_since=cutoff)
        known = {p.agent_id: p for p in await self._store.get_presence(recent)}
        for agent in recent:
            row = known.get(agent)
            if row is None or (row.last_seen < cutoff and row.status is not PresenceStatus.OFFLINE):
                count += 1
        return count


def _report(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("early presence flush failed; the next flush retries it")
