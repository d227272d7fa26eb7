"""Every service call the dashboard makes, in one place.

The dashboard has no data path of its own: logging in is ``AuthService.authenticate`` (the
service behind ``authenticate_agent``, so key ceilings and agent bindings apply), reading a
cookie is ``AuthService.resolve`` (expiry and revocation, like every tool call), messages come
from ``MessageService.read``/``get_advanced`` and ``SearchService.search_context`` (visibility
is applied by storage through ``domain.visibility``, exactly as for the MCP tools), presence,
locks, audit and metrics from their services. The services' typed results
(``services.results``) are turned into small view records here, so the templates do not depend
on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared_context.domain.clock import parse_iso
from shared_context.domain.models import Message, MessageQuery, Principal, visibility_name
from shared_context.domain.visibility import can_see
from shared_context.events.bus import Event, EventKind
from shared_context.services.container import Services
from shared_context.services.results import MessageShape, SessionShape, message_shape

PAGE_MAX = 200  # messages shown on one session page
SESSIONS_SCAN_MAX = 500  # sessions looked at when filtering the list by text
ADMIN_LOCK_SESSIONS = 50  # active sessions whose locks the agents panel lists
ACTIVITY_ROWS = 50
CSRF_SECRET_NAME = "dashboard_csrf_secret"
PERMISSION_CHOICES = ("read", "write", "admin")


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in identity of a dashboard request (from its verified token)."""

    principal: Principal
    token: str

    @property
    def agent_id(self) -> str:
        return self.principal.agent_id

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin

    @property
    def can_write(self) -> bool:
        return any(p.value == "write" for p in self.principal.permissions)

    @property
    def permissions(self) -> list[str]:
        return sorted(p.value for p in self.principal.permissions)


@dataclass(frozen=True, slots=True)
class Login:
    token: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    sender: str
    sender_type: str
    content: str
    visibility: str
    parent_message_id: int | None
    timestamp: str
    score: float | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: str
    purpose: str
    created_by: str
    created_at: str
    is_active: bool
    message_count: int


def message_view(raw: Message | MessageShape, score: float | None = None) -> MessageView:
    m = message_shape(raw) if isinstance(raw, Message) else raw
    return MessageView(
        id=m.id,
        sender=m.sender,
        sender_type=m.sender_type,
        content=m.content,
        visibility=m.visibility,
        parent_message_id=m.parent_message_id,
        timestamp=m.timestamp,
        score=score,
    )


def _session_view(s: SessionShape) -> SessionView:
    return SessionView(
        session_id=s.session_id,
        purpose=s.purpose,
        created_by=s.created_by,
        created_at=s.created_at,
        is_active=s.is_active,
        message_count=s.message_count or 0,
    )


class DashboardData:
    def __init__(self, app: Services) -> None:
        self._app = app

    # --- identity -------------------------------------------------------------------------
    async def login(
        self, api_key: str, agent_id: str, agent_type: str, permissions: list[str]
    ) -> Login:
        result = await self._app.auth.authenticate(agent_id, agent_type, api_key, permissions)
        return Login(token=result.token, expires_at=parse_iso(str(result.expires_at), "expires_at"))

    async def viewer(self, token: str | None) -> Viewer:
        """Raises ``AuthError`` (AUTH_REQUIRED, TOKEN_EXPIRED, TOKEN_INVALID) like a tool call."""
        principal = await self._app.auth.resolve(token)
        return Viewer(principal=principal, token=token or "")

    async def logout(self, viewer: Viewer) -> None:
        """The cookie's token is revoked, so a copy of it is worthless afterwards."""
        await self._app.auth.tokens.revoke(viewer.principal)

    async def csrf_secret(self, generate: Callable[[], str]) -> str:
        """Shared by every instance on the database, so a form rendered by one is accepted
        by another behind a load balancer."""
        return await self._app.store.get_or_create_secret(CSRF_SECRET_NAME, generate())

    def now(self) -> float:
        return self._app.clock.now()

    # --- sessions -------------------------------------------------------------------------
    async def sessions(
        self,
        viewer: Viewer,
        *,
        active_only: bool,
        created_by: str | None,
        text: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[SessionView], str | None]:
        """One page of sessions; with ``text``, the first ``limit`` whose id or purpose holds
        it among the next SESSIONS_SCAN_MAX."""
        found: list[SessionView] = []
        scanned = 0
        while True:
            page = await self._app.sessions.list(
                viewer.principal,
                active_only=active_only,
                created_by=created_by,
                limit=limit if text is None else 100,
                cursor=cursor,
            )
            rows = [_session_view(s) for s in page.sessions]
            scanned += len(rows)
            cursor = page.next_cursor
            if text is None:
                return rows, cursor
            needle = text.casefold()
            found.extend(
                r for r in rows if needle in r.purpose.casefold() or needle in r.session_id
            )
            if len(found) >= limit or cursor is None or scanned >= SESSIONS_SCAN_MAX:
                return found[:limit], cursor

    async def session(self, viewer: Viewer, session_id: str) -> tuple[SessionView, list[str]]:
        body = await self._app.sessions.get(viewer.principal, session_id)
        return _session_view(body.session), list(body.participants)

    # --- messages -------------------------------------------------------------------------
    async def latest(
        self, viewer: Viewer, session_id: str, *, before_id: int | None = None
    ) -> tuple[list[MessageView], bool]:
        """The newest visible messages (before ``before_id``), oldest first."""
        query = MessageQuery(
            session_id=session_id, limit=PAGE_MAX, before_id=before_id, newest_first=True
        )
        found, more = await self._app.messages.read(viewer.principal, query)
        return [message_view(m) for m in reversed(found)], more

    async def after(
        self, viewer: Viewer, session_id: str, after_id: int, limit: int = 100
    ) -> tuple[list[MessageView], bool]:
        """Visible messages with id > after_id, oldest first: the query wait_for_messages runs."""
        query = MessageQuery(session_id=session_id, limit=limit, after_id=after_id)
        found, more = await self._app.messages.read(viewer.principal, query)
        return [message_view(m) for m in found], more

    async def last_id(self, session_id: str) -> int:
        return await self._app.store.last_message_id(session_id)

    async def filtered(
        self, viewer: Viewer, session_id: str, *, sender: str | None, visibility: str | None
    ) -> tuple[list[MessageView], bool]:
        body = await self._app.messages.get_advanced(
            viewer.principal,
            session_id,
            include_admin_only=viewer.is_admin,
            sender=sender,
            visibility=None if visibility is None else visibility_name(visibility),
            limit=PAGE_MAX,
        )
        return [message_view(m) for m in body.messages], body.has_more

    async def search(self, viewer: Viewer, session_id: str, query: str) -> list[MessageView]:
        body = await self._app.search.search_context(viewer.principal, session_id, query, limit=50)
        return [message_view(r.message, r.score) for r in body.results]

    async def post(
        self,
        viewer: Viewer,
        session_id: str,
        content: str,
        visibility: str,
        parent_message_id: int | None,
    ) -> int:
        body = await self._app.messages.add(
            viewer.principal,
            session_id,
            content,
            visibility_name(visibility),  # a form field: checked like a tool argument
            None,
            parent_message_id,
        )
        return body.message_id

    # --- coordination ---------------------------------------------------------------------
    async def presence(self, viewer: Viewer, session_id: str | None) -> list[dict[str, Any]]:
        body = await self._app.coordination.presence.active(viewer.principal, session_id)
        return [a.model_dump(mode="json") for a in body.agents]

    async def locks(self, viewer: Viewer, session_id: str) -> list[dict[str, Any]]:
        leases = await self._app.coordination.locks.list_locks(viewer.principal, session_id)
        return [lease.model_dump(mode="json") for lease in leases]

    async def all_locks(self, viewer: Viewer) -> list[dict[str, Any]]:
        sessions, _ = await self.sessions(
            viewer,
            active_only=True,
            created_by=None,
            text=None,
            limit=ADMIN_LOCK_SESSIONS,
            cursor=None,
        )
        found: list[dict[str, Any]] = []
        for s in sessions:
            found.extend(await self.locks(viewer, s.session_id))
        return found

    async def activity(self, viewer: Viewer) -> list[dict[str, Any]]:
        body = await self._app.audit_log.get_log(viewer.principal, limit=ACTIVITY_ROWS)
        return [e.model_dump(mode="json") for e in body.entries]

    async def metrics(self, viewer: Viewer) -> dict[str, Any]:
        return (await self._app.metrics.report(viewer.principal)).model_dump(mode="json")

    async def sample_metrics(self) -> dict[str, Any]:
        """The figures of get_performance_metrics, for the background sampler (no viewer)."""
        return (await self._app.metrics.snapshot()).model_dump(mode="json")

    # --- events ---------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[Event], None]) -> Callable[[], None]:
        return self._app.bus.subscribe(fn)

    def on_shutdown(self, fn: Callable[[], None]) -> None:
        self._app.coordination.stream_closers.append(fn)

    def register_stream_gauge(self, fn: Callable[[], float]) -> None:
        self._app.metrics.register_gauge("dashboard", "open_streams", fn)


MESSAGE_KINDS = frozenset({EventKind.MESSAGE_ADDED, EventKind.VISIBILITY_CHANGED})
PANEL_KINDS = frozenset({EventKind.PRESENCE_CHANGED, EventKind.LOCK_CHANGED})


def event_message(event: Event) -> Message | None:
    """The message an event carries, when it carries one (events completed from the database
    for other processes do; a bare wake-up does not)."""
    message = event.data.get("message") if isinstance(event.data, Mapping) else None
    return message if isinstance(message, Message) else None


def may_see(viewer: Viewer, message: Message) -> bool:
    """The one visibility rule (``domain.visibility``), for deciding whether to wake."""
    return can_see(viewer.principal, message)
