"""Session locks: leases held by one agent that expire by themselves (SPEC §8).

The session ``write`` lock (no resource) also makes other agents' ``add_message`` on that
session fail with SESSION_LOCKED; that check runs inside add_message's write transaction.
Named resources are advisory leases. Every decision is taken by the database in one writer
transaction, so exactly one of any number of racing agents wins.
"""

from __future__ import annotations

from typing import Any

from shared_context.domain.clock import Clock, iso
from shared_context.domain.coordination import (
    TTL_MAX_SECONDS,
    TTL_MIN_SECONDS,
    Lease,
    LockAction,
    LockActionName,
    check_lock_type,
    check_resource,
    parse_action,
)
from shared_context.domain.errors import PermissionDenied
from shared_context.domain.models import Principal
from shared_context.domain.permissions import Permission, require
from shared_context.domain.validation import check_int
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.audit import AuditRecorder
from shared_context.services.results import LockResult, LockShape, lock_shape
from shared_context.services.sessions import SessionService
from shared_context.storage.coordination import CoordinationStore

MAX_LISTED_LOCKS = 200


class LockService:
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
        self.purged = 0

    async def coordinate(
        self,
        principal: Principal,
        session_id: str,
        action: LockActionName = "lock",
        lock_type: str = "write",
        ttl_seconds: int = 300,
        resource: str | None = None,
        force: bool = False,
    ) -> LockResult:
        act = parse_action(action)
        require(principal, Permission.READ if act is LockAction.STATUS else Permission.WRITE)
        session = await self._sessions.require_session(session_id)
        sid = session.session_id
        name = check_resource(resource)
        kind = check_lock_type(lock_type)
        ttl = check_int(ttl_seconds, "ttl_seconds", low=TTL_MIN_SECONDS, high=TTL_MAX_SECONDS)
        forced = force
        if forced and act is not LockAction.UNLOCK:
            raise PermissionDenied("force applies only to unlock.")
        if forced:
            require(principal, Permission.ADMIN)
        now = self._clock.now()
        if act is LockAction.STATUS:
            lease = await self._store.get_lock(sid, name, now)
            return self._result(act, sid, name, lease, now, held=lease is not None)
        audit = self._audit.event(
            "coordinate_session_work",
            principal,
            session_id=sid,
            action=act.value,
            resource=name or None,
            lock_type=kind,
            ttl_seconds=ttl,
            force=forced,
        )
        if act is LockAction.LOCK:
            outcome = await self._store.acquire_lock(
                Lease(sid, name, kind, principal.agent_id, principal.agent_type, now, now + ttl),
                now,
                audit,
            )
            lease = outcome.lease
        elif act is LockAction.RENEW:
            lease = await self._store.renew_lock(
                sid, name, principal.agent_id, now + ttl, now, audit
            )
        else:
            released = await self._store.release_lock(
                sid, name, None if forced else principal.agent_id, now, audit
            )
            self._publish(principal, act, released, forced=forced)
            return self._result(
                act,
                sid,
                name,
                None,
                now,
                held=False,
                released_holder=released.holder,
                forced=forced,
            )
        assert lease is not None
        self._publish(principal, act, lease, forced=False)
        return self._result(act, sid, name, lease, now, held=True)

    def _result(
        self,
        act: LockAction,
        sid: str,
        name: str,
        lease: Lease | None,
        now: float,
        *,
        held: bool,
        **released: Any,
    ) -> LockResult:
        """The lock's state; an unlock adds ``released_holder`` and ``forced`` (open fields)."""
        return LockResult(
            action=act.value,
            session_id=sid,
            resource=name or None,
            locked=held,
            holder=lease.holder if lease else None,
            lock_type=lease.lock_type if lease else None,
            acquired_at=iso(lease.acquired_at) if lease else None,
            expires_at=iso(lease.expires_at) if lease else None,
            ttl_remaining_seconds=round(max(0.0, lease.expires_at - now), 3) if lease else None,
            **released,
        )

    def _publish(
        self, principal: Principal, act: LockAction, lease: Lease, *, forced: bool
    ) -> None:
        self._bus.publish(
            Event(
                EventKind.LOCK_CHANGED,
                session_id=lease.session_id,
                agent_id=principal.agent_id,
                data={
                    "action": act.value,
                    "resource": lease.resource or None,
                    "holder": lease.holder,
                    "expires_at": iso(lease.expires_at),
                    "forced": forced,
                },
            )
        )

    async def list_locks(self, principal: Principal, session_id: str) -> list[LockShape]:
        require(principal, Permission.READ)
        session = await self._sessions.require_session(session_id)
        leases = await self._store.list_locks(
            session.session_id, self._clock.now(), MAX_LISTED_LOCKS
        )
        return [lock_shape(lease) for lease in leases]

    async def count_live(self) -> int:
        return await self._store.count_live_locks(self._clock.now())

    # --- expiry sweep (the lock_sweep maintenance job) ------------------------------------
    async def sweep(self) -> int:
        """Remove expired leases (they are already ignored by every check)."""
        purged = await self._store.purge_expired_locks(self._clock.now())
        self.purged += purged
        return purged
