"""Reading the audit log and applying its retention.

Admins see every event; any other caller sees only events recorded under their own agent id,
whatever filters they pass (asking for another agent's events yields an empty page, never an
error that would confirm the agent exists).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Literal

from shared_context.domain.audit import AuditQuery, AuditSummary
from shared_context.domain.bounds import AUDIT_PAGE, EVENT_TYPE_MAX_CHARS, SUMMARY_HOURS
from shared_context.domain.clock import Clock, iso, parse_iso
from shared_context.domain.errors import InvalidInput
from shared_context.domain.ids import SESSION_ID_RE, check_agent_id
from shared_context.domain.models import Principal
from shared_context.domain.permissions import Permission, require
from shared_context.domain.validation import check_int, decode_cursor, encode_cursor
from shared_context.services.results import ActivitySummary, AuditPage, audit_entry
from shared_context.storage.audit import AuditLogStore

log = logging.getLogger(__name__)

EVENT_TYPE_RE = re.compile(rf"^[A-Za-z0-9_.:\-]{{1,{EVENT_TYPE_MAX_CHARS}}}$")
LOG_MAX = AUDIT_PAGE[1]
SUMMARY_MAX_HOURS = SUMMARY_HOURS[1]
PURGE_MAX_BATCHES = 100


class AuditLogService:
    def __init__(
        self,
        store: AuditLogStore,
        clock: Clock,
        *,
        retention_seconds: float,
        purge_batch: int = 500,
    ) -> None:
        self._store = store
        self._clock = clock
        self.retention_seconds = retention_seconds
        self._batch = purge_batch

    async def get_log(
        self,
        principal: Principal,
        *,
        session_id: str | None = None,
        agent_id: str | None = None,
        event_type: str | None = None,
        since: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        order: Literal["desc", "asc"] = "desc",
    ) -> AuditPage:
        require(principal, Permission.READ)
        query = AuditQuery(
            limit=check_int(limit, "limit", low=1, high=LOG_MAX) + 1,
            agent_id=None if agent_id is None else check_agent_id(agent_id),
            session_id=None if session_id is None else _check_session_filter(session_id),
            event_type=None if event_type is None else _check_event_type(event_type),
            since=None if since is None else parse_iso(since, "since"),
            cursor_id=decode_cursor(cursor),
            newest_first=order == "desc",
        )
        page_size = query.limit - 1
        allowed, agent_filter = _restrict(principal, query.agent_id)
        found = await self._store.query(replace(query, agent_id=agent_filter)) if allowed else []
        more = len(found) > page_size
        page = found[:page_size]
        return AuditPage(
            entries=[audit_entry(e) for e in page],
            count=len(page),
            has_more=more,
            next_cursor=encode_cursor(page[-1].id) if more and page else None,
        )

    async def summary(
        self, principal: Principal, *, agent_id: str | None = None, hours: int = 24
    ) -> ActivitySummary:
        require(principal, Permission.READ)
        span = check_int(hours, "hours", low=1, high=SUMMARY_MAX_HOURS)
        wanted = None if agent_id is None else check_agent_id(agent_id)
        since = self._clock.now() - span * 3600
        allowed, agent_filter = _restrict(principal, wanted)
        result = await self._store.summary(agent_filter, since) if allowed else AuditSummary()
        return ActivitySummary(
            agent_id=wanted if wanted is not None else agent_filter,
            hours=span,
            since=iso(since),
            total_events=result.total,
            by_event_type=result.by_event_type,
            by_outcome=result.by_outcome,
            by_agent=result.by_agent,
            sessions=result.sessions,
            first_event_at=iso(result.first_at),
            last_event_at=iso(result.last_at),
        )

    async def apply_retention(self) -> int:
        """Delete rows older than the retention period, in bounded batches."""
        cutoff = self._clock.now() - self.retention_seconds
        total = 0
        for _ in range(PURGE_MAX_BATCHES):
            removed = await self._store.purge_before(cutoff, self._batch)
            total += removed
            if removed < self._batch:
                break
        if total:
            log.info("audit retention removed %d rows older than %s", total, iso(cutoff))
        return total


def _restrict(principal: Principal, wanted: str | None) -> tuple[bool, str | None]:
    """(anything to show, agent filter): admins get what they asked for; everyone else gets
    their own events only, and nothing at all when they asked for another agent's."""
    if principal.is_admin:
        return True, wanted
    if wanted is not None and wanted != principal.agent_id:
        return False, None
    return True, principal.agent_id


def _check_session_filter(value: str) -> str:
    if not SESSION_ID_RE.fullmatch(value):
        raise InvalidInput("session_id must look like session_0123456789abcdef.")
    return value


def _check_event_type(value: str) -> str:
    if not EVENT_TYPE_RE.fullmatch(value):
        raise InvalidInput(
            "event_type must be 1-64 letters, digits, '_', '.', ':' or '-' "
            "(for example set_memory, add_message, authenticate)."
        )
    return value
