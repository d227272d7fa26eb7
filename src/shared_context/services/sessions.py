"""Creating, reading, listing and closing sessions."""

from __future__ import annotations

from typing import Any

from shared_context.domain.bounds import PURPOSE_MAX_CHARS, SESSION_PAGE
from shared_context.domain.clock import Clock, iso
from shared_context.domain.errors import PermissionDenied, session_not_found
from shared_context.domain.ids import check_agent_id, check_session_id, new_session_id
from shared_context.domain.models import Principal, Session
from shared_context.domain.permissions import Permission, require
from shared_context.domain.validation import (
    check_int,
    check_metadata,
    check_text,
    decode_cursor,
    encode_cursor,
)
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.audit import AuditRecorder
from shared_context.services.read_cache import ReadCache
from shared_context.services.results import (
    SessionClosed,
    SessionCreated,
    SessionDetail,
    SessionPage,
    session_shape,
)
from shared_context.storage.base import Store


class SessionService:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        audit: AuditRecorder,
        clock: Clock,
        cache: ReadCache | None = None,
    ) -> None:
        self._cache = cache
        self._store = store
        self._bus = bus
        self._audit = audit
        self._clock = clock

    async def require_session(self, session_id: str) -> Session:
        sid = check_session_id(session_id)
        if self._cache is not None:
            session = await self._cache.session(sid)
        else:
            session = await self._store.get_session(sid)
        if session is None:
            raise session_not_found(sid)
        return session

    async def create(
        self, principal: Principal, purpose: str, metadata: dict[str, Any] | None
    ) -> SessionCreated:
        require(principal, Permission.WRITE)
        purpose = check_text(purpose, "purpose", max_chars=PURPOSE_MAX_CHARS)
        meta = check_metadata(metadata)
        draft = Session(
            session_id=new_session_id(),
            purpose=purpose,
            metadata=meta,
            created_by=principal.agent_id,
            created_at=self._clock.now(),
            is_active=True,
        )
        session = await self._store.create_session(
            draft, self._audit.event("create_session", principal, session_id=draft.session_id)
        )
        self._bus.publish(
            Event(
                EventKind.SESSION_CHANGED,
                session_id=session.session_id,
                agent_id=principal.agent_id,
            )
        )
        return SessionCreated(
            session_id=session.session_id,
            created_by=session.created_by,
            created_at=iso(session.created_at),
        )

    async def get(self, principal: Principal, session_id: str) -> SessionDetail:
        require(principal, Permission.READ)
        session = await self.require_session(session_id)
        counts = await self._store.visible_counts(principal, [session.session_id])
        participants = await self._store.participants(principal, session.session_id)
        shown = session_shape(session, counts[session.session_id])
        return SessionDetail(session=shown, **shown.model_dump(), participants=participants)

    async def list(
        self,
        principal: Principal,
        *,
        active_only: bool,
        created_by: str | None,
        limit: int,
        cursor: str | None,
    ) -> SessionPage:
        require(principal, Permission.READ)
        limit = check_int(limit, "limit", low=SESSION_PAGE[0], high=SESSION_PAGE[1])
        if created_by is not None:
            check_agent_id(created_by, "created_by")
        after = decode_cursor(cursor)
        page = await self._store.list_sessions(
            active_only=active_only, created_by=created_by, limit=limit + 1, after_seq=after
        )
        has_more = len(page) > limit
        page = page[:limit]
        counts = await self._store.visible_counts(principal, [s.session_id for s in page])
        return SessionPage(
            sessions=[session_shape(s, counts[s.session_id]) for s in page],
            has_more=has_more,
            next_cursor=encode_cursor(page[-1].seq) if has_more and page else None,
        )

    async def close(self, principal: Principal, session_id: str) -> SessionClosed:
        require(principal, Permission.WRITE)
        session = await self.require_session(session_id)
        if session.created_by != principal.agent_id and not principal.is_admin:
            raise PermissionDenied(
                "Only the session's creator or an admin can close it.",
            )
        now = self._clock.now()
        await self._store.close_session(
            session.session_id,
            now,
            self._audit.event("close_session", principal, session_id=session.session_id),
        )
        self._bus.publish(
            Event(
                EventKind.SESSION_CHANGED,
                session_id=session.session_id,
                agent_id=principal.agent_id,
            )
        )
        return SessionClosed(session_id=session.session_id, is_active=False, closed_at=iso(now))
