"""Agent memory: private key/value entries with scopes, expiry, compare-and-set and quotas.

Memory is private to its owner: every lookup is keyed by the verified caller's agent id, and
no permission (not even ``admin``) reaches another agent's entries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shared_context.domain.bounds import MEMORY_PAGE
from shared_context.domain.clock import Clock, iso
from shared_context.domain.errors import (
    Conflict,
    InvalidInput,
    LimitExceeded,
    SharedContextError,
)
from shared_context.domain.memory import (
    ALL_SCOPES,
    MemoryWrite,
    check_expires_in,
    check_if_version,
    check_key,
    encode_value,
    memory_not_found,
    scope_name,
)
from shared_context.domain.memory import MemoryEntry as StoredEntry
from shared_context.domain.models import Principal
from shared_context.domain.permissions import Permission, require
from shared_context.domain.validation import check_int, check_metadata, decode_cursor, encode_cursor
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.audit import FAILURE, AuditRecorder
from shared_context.services.results import (
    MemoryDeleted,
    MemoryEntry,
    MemoryPage,
    MemorySnapshot,
    MemorySummary,
    MemoryWritten,
)
from shared_context.services.sessions import SessionService
from shared_context.storage.memory import MemoryStore

log = logging.getLogger(__name__)

LIST_MAX = MEMORY_PAGE[1]
SNAPSHOT_MAX_ENTRIES = 500
SNAPSHOT_MAX_VALUE_BYTES = 1024 * 1024
SWEEP_MAX_BATCHES = 100


@dataclass(frozen=True, slots=True)
class MemoryLimits:
    max_value_bytes: int = 64 * 1024
    max_entries_per_agent: int = 10_000
    max_bytes_per_agent: int = 32 * 1024 * 1024
    sweep_batch: int = 500


class MemoryService:
    def __init__(
        self,
        store: MemoryStore,
        sessions: SessionService,
        bus: EventBus,
        audit: AuditRecorder,
        clock: Clock,
        limits: MemoryLimits,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._bus = bus
        self._audit = audit
        self._clock = clock
        self.limits = limits

    async def _scope(self, session_id: str | None) -> str | None:
        """The session id of a session scope (which must exist), or None for global.
        Only an omitted session_id means global: an empty string is a mistake (it once
        silently widened a write to global scope), not a scope."""
        if session_id is None:
            return None
        if session_id == "":
            raise InvalidInput("session_id must not be empty; omit it for global memory.")
        session = await self._sessions.require_session(session_id)
        return session.session_id

    async def set(
        self,
        principal: Principal,
        key: str,
        value: Any,
        *,
        session_id: str | None = None,
        expires_in: int | None = None,
        metadata: dict[str, Any] | None = None,
        overwrite: bool = True,
        if_version: int | None = None,
    ) -> MemoryWritten:
        require(principal, Permission.WRITE)
        checked_key = check_key(key)
        ttl = check_expires_in(expires_in)
        expected = check_if_version(if_version)
        if not isinstance(overwrite, bool):  # a caller that ignores the types stores nothing
            raise InvalidInput("overwrite must be true or false.")
        meta = check_metadata(metadata)
        value_json = encode_value(value, self.limits.max_value_bytes)
        scope = await self._scope(session_id)
        now = self._clock.now()
        write = MemoryWrite(
            agent_id=principal.agent_id,
            session_id=scope,
            key=checked_key,
            value_json=value_json,
            size_bytes=len(value_json.encode()),
            metadata=meta,
            now=now,
            expires_at=None if ttl is None else now + ttl,
            max_entries=self.limits.max_entries_per_agent,
            max_bytes=self.limits.max_bytes_per_agent,
            overwrite=overwrite,
            if_version=expected,
        )
        audit_details = {"key": checked_key, "scope": scope_name(scope)}
        try:
            stored, created = await self._store.put(
                write, self._audit.event("set_memory", principal, session_id=scope, **audit_details)
            )
        except (Conflict, LimitExceeded) as exc:
            await self._record_refusal(principal, scope, exc, audit_details)
            raise
        self._publish(principal, scope, checked_key, stored.version, "set")
        return MemoryWritten(
            key=stored.key,
            scope=scope_name(scope),
            session_id=scope,
            version=stored.version,
            expires_at=iso(stored.expires_at),
            created=created,
            size_bytes=stored.size_bytes,
        )

    async def get(
        self, principal: Principal, key: str, *, session_id: str | None = None
    ) -> MemoryEntry:
        require(principal, Permission.READ)
        checked_key = check_key(key)
        scope = await self._scope(session_id)
        found = await self._store.get(
            principal.agent_id, scope or "", checked_key, self._clock.now()
        )
        if found is None:
            raise memory_not_found(checked_key)
        return MemoryEntry(
            key=found.key,
            value=found.value,
            scope=scope_name(found.session_id),
            session_id=found.session_id,
            version=found.version,
            expires_at=iso(found.expires_at),
            created_at=iso(found.created_at),
            updated_at=iso(found.updated_at),
            metadata=found.metadata,
            size_bytes=found.size_bytes,
        )

    async def list(
        self,
        principal: Principal,
        *,
        session_id: str | None = None,
        prefix: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> MemoryPage:
        require(principal, Permission.READ)
        page_size = check_int(limit, "limit", low=1, high=LIST_MAX)
        after = decode_cursor(cursor)
        wanted = None if prefix is None or prefix == "" else check_key(prefix, "prefix")
        every_scope = session_id == ALL_SCOPES
        scope = None if every_scope else (await self._scope(session_id) or "")
        found = await self._store.list(
            principal.agent_id,
            scope,
            prefix=wanted,
            after_id=after,
            limit=page_size + 1,
            now=self._clock.now(),
        )
        has_more = len(found) > page_size
        page = found[:page_size]
        return MemoryPage(
            entries=[_summary(e) for e in page],
            count=len(page),
            has_more=has_more,
            next_cursor=encode_cursor(page[-1].id) if has_more and page else None,
        )

    async def delete(
        self, principal: Principal, key: str, *, session_id: str | None = None
    ) -> MemoryDeleted:
        require(principal, Permission.WRITE)
        checked_key = check_key(key)
        scope = await self._scope(session_id)
        deleted = await self._store.delete(
            principal.agent_id,
            scope or "",
            checked_key,
            self._clock.now(),
            self._audit.event(
                "delete_memory",
                principal,
                session_id=scope,
                key=checked_key,
                scope=scope_name(scope),
            ),
        )
        if deleted is None:
            raise memory_not_found(checked_key)
        self._publish(principal, scope, checked_key, deleted.version, "delete")
        return MemoryDeleted(
            key=checked_key,
            scope=scope_name(scope),
            session_id=scope,
            deleted=True,
            version=deleted.version,
        )

    async def snapshot(self, principal: Principal) -> MemorySnapshot:
        """The caller's own live memory in every scope, for the agent://{id}/memory resource.
        Bounded: at most 500 entries, values included up to 1 MiB in total."""
        require(principal, Permission.READ)
        found = await self._store.list(
            principal.agent_id,
            None,
            prefix=None,
            after_id=None,
            limit=SNAPSHOT_MAX_ENTRIES + 1,
            now=self._clock.now(),
            with_values=True,
        )
        budget = SNAPSHOT_MAX_VALUE_BYTES
        entries = []
        for item in found[:SNAPSHOT_MAX_ENTRIES]:
            if item.size_bytes <= budget:
                entries.append(_summary(item, value=item.value))
                budget -= item.size_bytes
            else:
                entries.append(_summary(item, value_omitted=True))
        return MemorySnapshot(
            agent_id=principal.agent_id,
            entries=entries,
            truncated=len(found) > SNAPSHOT_MAX_ENTRIES,
        )

    async def sweep_expired(self, batch: int | None = None) -> int:
        """Delete expired entries in bounded batches (each its own short write transaction);
        returns how many were removed. Readers never see expired entries either way."""
        size = batch or self.limits.sweep_batch
        total = 0
        for _ in range(SWEEP_MAX_BATCHES):
            removed = await self._store.sweep(self._clock.now(), size)
            total += removed
            if removed < size:
                break
        if total:
            log.info("removed %d expired memory entries", total)
        return total

    async def live_count(self) -> int:
        return await self._store.count(self._clock.now())

    async def _record_refusal(
        self,
        principal: Principal,
        scope: str | None,
        exc: SharedContextError,
        details: dict[str, Any],
    ) -> None:
        try:
            await self._audit.record(
                "set_memory",
                principal,
                session_id=scope,
                outcome=FAILURE,
                code=exc.code.value,
                **details,
            )
        except SharedContextError as failure:  # the caller still gets the real refusal
            log.warning("could not audit a refused set_memory: %s", failure.message)

    def _publish(
        self, principal: Principal, scope: str | None, key: str, version: int, action: str
    ) -> None:
        self._bus.publish(
            Event(
                EventKind.MEMORY_CHANGED,
                session_id=scope,
                agent_id=principal.agent_id,
                data={"key": key, "version": version, "action": action, "scope": scope_name(scope)},
            )
        )


def _summary(entry: StoredEntry, **shown: Any) -> MemorySummary:
    """An entry without its value; the snapshot adds ``value`` or ``value_omitted``."""
    return MemorySummary(
        key=entry.key,
        scope=scope_name(entry.session_id),
        session_id=entry.session_id,
        version=entry.version,
        expires_at=iso(entry.expires_at),
        size_bytes=entry.size_bytes,
        updated_at=iso(entry.updated_at),
        **shown,
    )
