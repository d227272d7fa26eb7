"""Posting and reading messages; visibility is applied by storage via domain.visibility."""

from __future__ import annotations

import dataclasses
from typing import Any

from shared_context.domain.bounds import MESSAGE_PAGE
from shared_context.domain.clock import Clock, iso, parse_iso
from shared_context.domain.errors import InvalidInput, PermissionDenied, message_not_found
from shared_context.domain.ids import check_agent_id, check_idempotency_key
from shared_context.domain.models import (
    Message,
    MessageQuery,
    NewMessage,
    Principal,
    Visibility,
    VisibilityName,
    parse_visibility,
)
from shared_context.domain.permissions import Permission, require
from shared_context.domain.validation import (
    check_int,
    check_metadata,
    check_text,
    decode_cursor,
)
from shared_context.domain.visibility import audience_key, can_see
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.audit import AuditRecorder
from shared_context.services.read_cache import ReadCache
from shared_context.services.results import (
    MessagePage,
    MessagePosted,
    VisibilityChanged,
    message_page,
    message_shape,
)
from shared_context.services.sessions import SessionService
from shared_context.storage.base import Store

MAX_PAGE = MESSAGE_PAGE[1]
# Timestamps are shown rounded to the microsecond but stored at full precision: widening the
# bounds by half a microsecond makes "inclusive" hold for a message's own shown timestamp.
HALF_MICROSECOND = 0.5e-6


def parse_message_id(value: int, field: str) -> int:
    return check_int(value, field, low=1, high=2**62)


class MessageService:
    def __init__(
        self,
        store: Store,
        sessions: SessionService,
        bus: EventBus,
        audit: AuditRecorder,
        clock: Clock,
        *,
        max_content_chars: int,
        cache: ReadCache | None = None,
    ) -> None:
        self._cache = cache
        self._store = store
        self._sessions = sessions
        self._bus = bus
        self._audit = audit
        self._clock = clock
        self._max_content = max_content_chars

    async def add(
        self,
        principal: Principal,
        session_id: str,
        content: str,
        visibility: VisibilityName = "public",
        metadata: dict[str, Any] | None = None,
        parent_message_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> MessagePosted:
        require(principal, Permission.WRITE)
        session = await self._sessions.require_session(session_id)
        text = check_text(content, "content", max_chars=self._max_content)
        vis = parse_visibility(visibility)
        if vis is Visibility.ADMIN_ONLY:
            require(principal, Permission.ADMIN)
        meta = check_metadata(metadata)
        parent = (
            None
            if parent_message_id is None
            else parse_message_id(parent_message_id, "parent_message_id")
        )
        key = None if idempotency_key is None else check_idempotency_key(idempotency_key)
        if parent is not None:
            # A parent the poster may not see answers like a missing one (no existence oracle);
            # storage re-checks that it exists in this session inside the write transaction.
            found = await self._store.get_message(session.session_id, parent)
            if found is None or not can_see(principal, found):
                raise message_not_found(parent)
        new = NewMessage(
            session_id=session.session_id,
            sender=principal.agent_id,
            sender_type=principal.agent_type,
            content=text,
            visibility=vis,
            metadata=meta,
            parent_message_id=parent,
            created_at=self._clock.now(),
            idempotency_key=key,
        )
        message, created = await self._store.add_message(
            new,
            self._audit.event(
                "add_message", principal, session_id=session.session_id, visibility=vis.value
            ),
        )
        if created:
            self._bus.publish(
                Event(
                    EventKind.MESSAGE_ADDED,
                    session_id=message.session_id,
                    agent_id=principal.agent_id,
                    message_id=message.id,
                    data={"message": message},
                )
            )
        elif message.session_id != session.session_id:
            raise InvalidInput(
                "This idempotency_key was already used for a message in another session."
            )
        return MessagePosted(
            message_id=message.id,
            session_id=message.session_id,
            timestamp=iso(message.created_at),
            visibility=message.visibility.value,
            duplicate=not created,
        )

    async def read(self, principal: Principal, query: MessageQuery) -> tuple[list[Message], bool]:
        """One page of visible messages and whether more follow."""
        require(principal, Permission.READ)
        await self._sessions.require_session(query.session_id)
        limit = query.limit
        probe = dataclasses.replace(query, limit=limit + 1)
        found = await self._store.get_messages(principal, probe)
        return found[:limit], len(found) > limit

    async def get(
        self,
        principal: Principal,
        session_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        offset: int | None = None,
        since_id: int | None = None,
    ) -> MessagePage:
        page_size = check_int(limit, "limit", low=1, high=MAX_PAGE)
        after = decode_cursor(cursor)
        if since_id is not None:
            after = max(after or 0, check_int(since_id, "since_id", low=0, high=2**62))
        skip = 0 if offset is None else check_int(offset, "offset", low=0, high=100_000)
        require(principal, Permission.READ)
        cache = self._cache
        if cache is None:
            found, more = await self._get_page(principal, session_id, page_size, after, skip, None)
            return message_page(found, more)
        session = await self._sessions.require_session(session_id)  # after cache.fresh
        sid = session.session_id
        # Captured before any read (see cache.py). require_session has just applied every
        # process's commits, so a second look at the change feed would only catch commits
        # made while this call was already in flight (issue 15: one PRAGMA per check, three
        # per call, on the event loop).
        version = cache.applied_version(sid)
        key = ("get", sid, audience_key(principal), page_size, after, skip)
        return await cache.page(
            key,
            version,
            lambda: self._get_page(principal, sid, page_size, after, skip, version),
            rewrites=cache.applied_rewrites(sid),
        )

    async def _get_page(
        self,
        principal: Principal,
        sid: str,
        page_size: int,
        after: int | None,
        skip: int,
        version: int | None,
    ) -> tuple[list[Message], bool]:
        """The page's visible messages (not yet rendered) and whether more follow."""
        want = page_size + skip + 1
        if self._cache is not None and version is not None:
            cut = await self._cache.visible_after(principal, sid, version, after, want)
            if cut is not None:
                return cut[skip : page_size + skip], len(cut) == want
        query = MessageQuery(session_id=sid, limit=page_size + skip, after_id=after)
        found, more = await self.read(principal, query)
        return found[skip:], more

    async def get_advanced(
        self,
        principal: Principal,
        session_id: str,
        *,
        include_admin_only: bool = False,
        sender: str | None = None,
        visibility: VisibilityName | None = None,
        since: str | None = None,
        until: str | None = None,
        parent_message_id: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> MessagePage:
        query = MessageQuery(
            session_id=session_id,
            limit=check_int(limit, "limit", low=1, high=MAX_PAGE),
            after_id=decode_cursor(cursor),
            sender=None if sender is None else check_agent_id(sender, "sender"),
            visibility=None if visibility is None else parse_visibility(visibility),
            since=None if since is None else parse_iso(since, "since") - HALF_MICROSECOND,
            until=None if until is None else parse_iso(until, "until") + HALF_MICROSECOND,
            parent_message_id=None
            if parent_message_id is None
            else parse_message_id(parent_message_id, "parent_message_id"),
            include_admin_only=include_admin_only,
        )
        if include_admin_only and not principal.is_admin:
            raise PermissionDenied("include_admin_only needs the admin permission.")
        found, more = await self.read(principal, query)
        return message_page(found, more)

    async def set_visibility(
        self,
        principal: Principal,
        session_id: str,
        message_id: int,
        visibility: VisibilityName,
    ) -> VisibilityChanged:
        require(principal, Permission.WRITE)
        session = await self._sessions.require_session(session_id)
        mid = parse_message_id(message_id, "message_id")
        vis = parse_visibility(visibility)
        existing = await self._store.get_message(session.session_id, mid)
        if existing is None or not can_see(principal, existing):
            raise message_not_found(mid)
        if existing.sender != principal.agent_id and not principal.is_admin:
            raise PermissionDenied(
                "Only the message's sender or an admin can change its visibility."
            )
        if vis is Visibility.ADMIN_ONLY:
            require(principal, Permission.ADMIN)
        updated = await self._store.set_visibility(
            session.session_id,
            mid,
            vis,
            self._audit.event(
                "set_message_visibility",
                principal,
                session_id=session.session_id,
                message_id=mid,
                old=existing.visibility.value,
                new=vis.value,
            ),
        )
        self._bus.publish(
            Event(
                EventKind.VISIBILITY_CHANGED,
                session_id=session.session_id,
                agent_id=principal.agent_id,
                message_id=mid,
                data={"message": updated, "old_visibility": existing.visibility.value},
            )
        )
        return VisibilityChanged(message=message_shape(updated))
