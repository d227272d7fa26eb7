"""The dashboard's request handlers: login/logout, sessions, a session's page and stream,
posting, and the admin panels. Every handler resolves the viewer from the cookie first; without
a valid one nothing but the login form (or a 401 with no content) is returned."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from shared_context.domain.errors import (
    AuthError,
    ErrorCode,
    LimitExceeded,
    PermissionDenied,
    SharedContextError,
)
from shared_context.web.dashboard import security
from shared_context.web.dashboard.data import (
    PERMISSION_CHOICES,
    DashboardData,
    MessageView,
    Viewer,
)
from shared_context.web.dashboard.render import render, thread_order
from shared_context.web.dashboard.series import MetricsSeries
from shared_context.web.dashboard.stream import SessionStreams
from shared_context.web.errors import (
    http_status,
    login_redirect_for_htmx,
    refusal_text,
    text_too_large,
)

VISIBILITIES = ("public", "private", "agent_only", "admin_only")
MAX_FIELD = 200  # longest filter/search value accepted from a query string
MAX_FORM_BYTES = 64 * 1024
Handler = Callable[[Request], Awaitable[Response]]


def status_for(exc: SharedContextError) -> int:
    return http_status(exc)


def _arg(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value[:MAX_FIELD] or None


def _int_arg(request: Request, name: str) -> int | None:
    value = _arg(request, name)
    if value is None or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


class Pages:
    def __init__(
        self,
        data: DashboardData,
        env: Environment,
        csrf: Callable[[], security.Csrf],
        streams: SessionStreams,
        series: MetricsSeries,
        *,
        secure_cookie: bool,
    ) -> None:
        self.data = data
        self.env = env
        self._csrf = csrf
        self.streams = streams
        self.series = series
        self.secure = secure_cookie

    # --- helpers --------------------------------------------------------------------------
    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        csrf = self._csrf()
        nonce, new = csrf.nonce(request)
        html = render(self.env, name, csrf_token=csrf.token(nonce), request=request, **context)
        response = HTMLResponse(html, status_code=status)
        if new:
            csrf.remember(response, nonce, secure=self.secure)
        return response

    def to_login(self, request: Request, notice: str | None = None) -> Response:
        target = "/ui/login" + (f"?{urlencode({'notice': notice})}" if notice else "")
        if request.headers.get("hx-request"):
            response: Response = login_redirect_for_htmx(target)
        else:
            response = RedirectResponse(target, status_code=303)
        security.clear_login_cookie(response, secure=self.secure)
        return response

    async def viewer_or_login(self, request: Request) -> Viewer | Response:
        token = security.login_token(request)
        if token is None:
            return self.to_login(request)
        try:
            return await self.data.viewer(token)
        except AuthError as exc:
            notice = "expired" if exc.code.value == "TOKEN_EXPIRED" else "invalid"
            return self.to_login(request, notice)

    def error(self, request: Request, viewer: Viewer | None, exc: SharedContextError) -> Response:
        return self.page(request, "error.html", status_for(exc), viewer=viewer, message=exc.message)

    def forbidden_form(self, request: Request) -> Response | None:
        """None when the POST is same-origin; else a 403 (no side effect happened)."""
        if not security.same_origin(request):
            return refusal_text(PermissionDenied("Cross-site form submission refused."))
        return None

    async def form(self, request: Request) -> dict[str, str] | Response:
        refused = self.forbidden_form(request)
        if refused is not None:
            return refused
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_FORM_BYTES:
            return text_too_large("Form too large.")
        raw = await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_BYTES)
        fields = {k: v for k, v in raw.items() if isinstance(v, str)}
        if not self._csrf().valid(request, fields.get(security.CSRF_FIELD)):
            return refusal_text(
                PermissionDenied(
                    "The form expired or came from elsewhere; reload the page and try again."
                )
            )
        return fields

    # --- login ----------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        viewer = await self.viewer_or_login(request)
        if isinstance(viewer, Response):
            return viewer
        return RedirectResponse("/ui/sessions", status_code=303)

    async def login_form(self, request: Request) -> Response:
        notice = {
            "expired": "Your login expired; please log in again.",
            "invalid": "Your login is no longer valid; please log in again.",
            "out": "You are logged out.",
        }.get(request.query_params.get("notice", ""))
        return self.page(request, "login.html", viewer=None, notice=notice, error=None, form={})

    async def login(self, request: Request) -> Response:
        fields = await self.form(request)
        if isinstance(fields, Response):
            return fields
        wanted = [p for p in PERMISSION_CHOICES if p == "read" or fields.get(f"perm_{p}") == "on"]
        try:
            login = await self.data.login(
                fields.get("api_key", ""),
                fields.get("agent_id", "").strip(),
                fields.get("agent_type", "").strip(),
                wanted,
            )
        except SharedContextError as exc:
            kept = {k: fields.get(k, "")[:MAX_FIELD] for k in ("agent_id", "agent_type")}
            kept.update({f"perm_{p}": fields.get(f"perm_{p}", "") for p in PERMISSION_CHOICES})
            return self.page(
                request,
                "login.html",
                status_for(exc),
                viewer=None,
                notice=None,
                error=exc.message,
                form=kept,
            )
        response = RedirectResponse("/ui/sessions", status_code=303)
        max_age = math.floor(login.expires_at - self.data.now())
        security.set_login_cookie(response, login.token, max_age, secure=self.secure)
        return response

    async def logout(self, request: Request) -> Response:
        fields = await self.form(request)
        if isinstance(fields, Response):
            return fields
        token = security.login_token(request)
        if token is not None:
            # Already expired or revoked: clearing the cookie is all that is left to do.
            with contextlib.suppress(AuthError):
                viewer = await self.data.viewer(token)
                await self.data.logout(viewer)
                self.streams.recheck(viewer.agent_id)  # its open streams end at once
        response = RedirectResponse("/ui/login?notice=out", status_code=303)
        security.clear_login_cookie(response, secure=self.secure)
        return response

    # --- sessions -------------------------------------------------------------------------
    async def sessions(self, request: Request) -> Response:
        viewer = await self.viewer_or_login(request)
        if isinstance(viewer, Response):
            return viewer
        active = request.query_params.get("active", "1") != "0"
        created_by, text = _arg(request, "created_by"), _arg(request, "q")
        filters = {"active": active, "created_by": created_by, "q": text}
        try:
            rows, cursor = await self.data.sessions(
                viewer,
                active_only=active,
                created_by=created_by,
                text=text,
                limit=50,
                cursor=_arg(request, "cursor"),
            )
        except SharedContextError as exc:
            return self.error(request, viewer, exc)
        name = "sessions_list.html" if request.headers.get("hx-request") else "sessions.html"
        return self.page(
            request, name, viewer=viewer, sessions=rows, next_cursor=cursor, filters=filters
        )

    async def session(self, request: Request) -> Response:
        viewer = await self.viewer_or_login(request)
        if isinstance(viewer, Response):
            return viewer
        sid = str(request.path_params["session_id"])
        sender, visibility = _arg(request, "sender"), _arg(request, "visibility")
        query, before = _arg(request, "q"), _int_arg(request, "before")
        if visibility is not None and visibility not in VISIBILITIES:
            visibility = None
        try:
            session, participants = await self.data.session(viewer, sid)
            live = query is None and sender is None and visibility is None
            more = False
            if query is not None:
                messages: list[MessageView] = await self.data.search(viewer, sid, query)
            elif not live:
                messages, more = await self.data.filtered(
                    viewer, sid, sender=sender, visibility=visibility
                )
            else:
                messages, more = await self.data.latest(viewer, sid, before_id=before)
            live = live and before is None
            after = max((m.id for m in messages), default=0)
            if live and not messages:
                after = await self.data.last_id(sid)
            panel = await self.panel_context(viewer, sid)
        except SharedContextError as exc:
            return self.error(request, viewer, exc)
        rows = thread_order(messages) if query is None else None
        context = {
            "viewer": viewer,
            "session": session,
            "participants": participants,
            "rows": rows,
            "results": messages if query is not None else None,
            "more": more,
            "earliest": min((m.id for m in messages), default=None),
            "after": after,
            "live": live,
            "filters": {"sender": sender, "visibility": visibility, "q": query},
            "visibilities": VISIBILITIES,
            "reply_to": _int_arg(request, "reply_to"),
            "posted": request.query_params.get("posted") == "1",
            **panel,
        }
        return self.page(request, "session.html", **context)

    async def panel_context(self, viewer: Viewer, sid: str) -> dict[str, Any]:
        return {
            "presence": await self.data.presence(viewer, sid),
            "locks": await self.data.locks(viewer, sid),
        }

    async def render_panel(self, viewer: Viewer, sid: str) -> str:
        return render(self.env, "panel.html", **(await self.panel_context(viewer, sid)))

    async def stream(self, request: Request) -> Response:
        token = security.login_token(request)
        try:
            viewer = await self.data.viewer(token)
            sid = str(request.path_params["session_id"])
            await self.data.session(viewer, sid)  # exists and is readable by this viewer
        except AuthError:
            return refusal_text(AuthError("Log in first."))
        except SharedContextError as exc:
            return refusal_text(exc)
        last_event = request.headers.get("last-event-id", "")
        after = int(last_event) if last_event.isdigit() and len(last_event) < 19 else None
        if after is None:
            after = _int_arg(request, "after") or 0
        if not self.streams.limits.acquire(viewer.agent_id):
            return refusal_text(
                LimitExceeded(
                    "Too many live views are open; close some tabs and reload.",
                    code=ErrorCode.RATE_LIMITED,
                )
            )
        return EventSourceResponse(
            self.streams.events(viewer, sid, after),
            send_timeout=30,
            headers={"x-accel-buffering": "no"},
        )

    async def post_message(self, request: Request) -> Response:
        viewer = await self.viewer_or_login(request)
        if isinstance(viewer, Response):
            return viewer
        fields = await self.form(request)
        if isinstance(fields, Response):
            return fields
        sid = str(request.path_params["session_id"])
        parent_raw = fields.get("parent_message_id", "").strip()
        parent = int(parent_raw) if parent_raw.isdigit() and len(parent_raw) < 19 else None
        try:
            message_id = await self.data.post(
                viewer, sid, fields.get("content", ""), fields.get("visibility", "public"), parent
            )
        except SharedContextError as exc:
            return self.error(request, viewer, exc)
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"x-message-id": str(message_id)})
        return RedirectResponse(f"/ui/sessions/{sid}?posted=1", status_code=303)

    # --- admin ----------------------------------------------------------------------------
    async def admin(self, request: Request) -> Response:
        viewer = await self.viewer_or_login(request)
        if isinstance(viewer, Response):
            return viewer
        fragment = request.path_params.get("panel")
        try:
            if not viewer.is_admin:
                raise PermissionDenied("The admin panels need a login with the admin permission.")
            context: dict[str, Any] = {"viewer": viewer}
            if fragment in (None, "agents"):
                context["agents"] = await self.data.presence(viewer, None)
                context["all_locks"] = await self.data.all_locks(viewer)
                context["activity"] = await self.data.activity(viewer)
            if fragment in (None, "metrics"):
                context["metrics"] = await self.data.metrics(viewer)
                context["charts"] = self.series.charts()
                context["sample_seconds"] = self.series.interval
        except SharedContextError as exc:
            return self.error(request, viewer, exc)
        name = "admin.html" if fragment is None else f"panel_{fragment}.html"
        return self.page(request, name, **context)
