"""The live web dashboard at ``/ui`` (SPEC §17).

``Dashboard(app)`` builds the ``/ui`` routes (an ASGI sub-application with its own security
headers), the live streams and the metrics sampler. ``bootstrap.build_http_app`` mounts
``dashboard.routes()`` and runs ``dashboard.lifespan`` inside the server's lifespan.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from shared_context.domain.errors import NotFound
from shared_context.services.container import Services
from shared_context.web.dashboard import security
from shared_context.web.dashboard.data import DashboardData, MessageView, Viewer
from shared_context.web.dashboard.pages import Pages
from shared_context.web.dashboard.render import Row, environment, render
from shared_context.web.dashboard.series import MetricsSeries
from shared_context.web.dashboard.stream import SessionStreams, StreamLimits
from shared_context.web.errors import refusal_text

__all__ = ["Dashboard"]

STATIC = Path(__file__).parent / "static"
RENDERED_MAX = 2048  # live message fragments kept rendered
App = TypeVar("App")
Lifespan = Callable[[App], AbstractAsyncContextManager[Any]]


class Dashboard:
    def __init__(self, app: Services) -> None:
        settings = app.settings
        self.enabled = settings.dashboard_enabled
        self.data = DashboardData(app)
        self.env = environment()
        self.series = MetricsSeries(
            self.data.sample_metrics,
            interval=settings.dashboard_sample_seconds,
            points=settings.dashboard_series_points,
        )
        limits = StreamLimits(
            settings.dashboard_max_streams, settings.dashboard_max_streams_per_agent
        )
        self.streams = SessionStreams(
            self.data,
            limits,
            heartbeat=settings.dashboard_heartbeat_seconds,
            render_messages=self._render_messages,
            render_panel=self._render_panel,
            render_removal=lambda mid: render(self.env, "removal.html", message_id=mid),
            render_expired=lambda: render(self.env, "expired.html"),
        )
        self.data.register_stream_gauge(lambda: float(limits.open))
        self._csrf: security.Csrf | None = None
        self._rendered: OrderedDict[tuple[int, str, bool], str] = OrderedDict()
        self._ready = asyncio.Lock()
        self.pages = Pages(
            self.data,
            self.env,
            self.csrf,
            self.streams,
            self.series,
            secure_cookie=settings.dashboard_cookie_secure,
        )

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        async with self._ready:
            if self._csrf is None:
                self._csrf = security.Csrf(await self.data.csrf_secret(_new_secret))
        if self.enabled:
            self.series.start()

    async def stop(self) -> None:
        self.streams.end_all()
        await self.series.stop()

    def lifespan(self, inner: Lifespan[App]) -> Lifespan[App]:
        """``inner`` (the MCP app's lifespan) with the dashboard started inside it."""

        @asynccontextmanager
        async def run(app: App) -> AsyncIterator[Any]:
            async with inner(app) as state:
                await self.start()
                try:
                    yield state
                finally:
                    await self.stop()

        return run

    def csrf(self) -> security.Csrf:
        if self._csrf is None:  # pragma: no cover - start() runs before the first request
            raise RuntimeError("the dashboard was not started")
        return self._csrf

    # --- routes ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        if not self.enabled:
            return []
        p = self.pages
        sid = "/sessions/{session_id:str}"
        inner = Starlette(
            routes=[
                Route("/", p.index, methods=["GET"]),
                Route("/login", p.login_form, methods=["GET"]),
                Route("/login", p.login, methods=["POST"]),
                Route("/logout", p.logout, methods=["POST"]),
                Route("/sessions", p.sessions, methods=["GET"]),
                Route(sid, p.session, methods=["GET"]),
                Route(sid + "/stream", p.stream, methods=["GET"]),
                Route(sid + "/messages", p.post_message, methods=["POST"]),
                Route("/admin", p.admin, methods=["GET"]),
                Route("/admin/{panel:str}", self._admin_panel, methods=["GET"]),
                Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
            ],
            middleware=[Middleware(security.SecurityHeaders)],
        )

        async def ui(scope: Scope, receive: Receive, send: Send) -> None:
            if self._csrf is None:
                await self.start()
            await inner(scope, receive, send)

        async def bare(_: Request) -> Response:
            return RedirectResponse("/ui/", status_code=308)

        return [Route("/ui", bare, methods=["GET"]), Mount("/ui", app=ui)]

    async def _admin_panel(self, request: Request) -> Response:
        if request.path_params["panel"] not in ("agents", "metrics"):
            return refusal_text(NotFound("Not found"))
        return await self.pages.admin(request)

    # --- fragments for the stream ---------------------------------------------------------
    def _render_messages(self, viewer: Viewer, messages: list[MessageView]) -> str:
        """In id order, as get_messages returns them; the page's script puts each reply
        under its parent (a parent always comes before its replies). A message's HTML depends
        only on the message and on whether the viewer may reply, so it is rendered once for
        all the viewers it is sent to (a bounded LRU)."""
        parts = []
        for message in messages:
            key = (message.id, message.visibility, viewer.can_write)
            html = self._rendered.get(key)
            if html is None:
                html = render(self.env, "messages_live.html", viewer=viewer, rows=[Row(message, 0)])
                self._rendered[key] = html
                if len(self._rendered) > RENDERED_MAX:
                    self._rendered.popitem(last=False)
            else:
                self._rendered.move_to_end(key)
            parts.append(html)
        return "".join(parts)

    async def _render_panel(self, viewer: Viewer, session_id: str) -> str:
        return await self.pages.render_panel(viewer, session_id)


def _new_secret() -> str:
    import secrets

    return secrets.token_urlsafe(48)
