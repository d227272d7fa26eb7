"""Admission of stateful Streamable HTTP sessions (SPEC §19): capacity that unauthenticated
clients cannot take.

The MCP SDK's session manager (``StreamableHTTPSessionManager``) keeps every session that
ever completed ``initialize`` until it idles out (30 minutes) and refuses new ones with HTTP
503 at ``max_sessions`` (10,000). ``initialize`` needs no credential, so a flood of bare
handshakes filled that table in under a minute: every new client, even one with a valid key,
then got 503, and RSS grew by ~370 MB. This middleware sits in front of the manager:

- A session is *authenticated* once it showed a valid token: a bearer header on any of its
  requests, or a tool call whose ``auth_token`` verified (``AuthService.on_authenticated``).
- Unauthenticated sessions live in a small pool (``max_unauthenticated_sessions``) and expire
  ``unauthenticated_session_ttl_seconds`` after they opened unless they authenticate; when the
  pool is full the oldest unauthenticated session is evicted: a flood evicts itself.
- An opening request with a valid bearer token is always admitted while the server holds
  fewer than ``max_mcp_sessions``; at that cap it evicts the oldest unauthenticated session
  first, and only when every session is authenticated is it refused (503).

Memory is therefore bounded by the two caps, whatever the flood. Evicting uses the SDK
manager's own discard path (``_discard_session``), the same one its idle timeout uses.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastmcp.server.http import StreamableHTTPASGIApp
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared_context.domain.errors import ErrorCode, LimitExceeded, SharedContextError
from shared_context.domain.models import Principal
from shared_context.mcp.errors import jsonrpc_refusal
from shared_context.services.container import Services

log = logging.getLogger(__name__)

ManagerRef = Callable[[], StreamableHTTPSessionManager | None]
REFUSAL_STATUS, REFUSAL = jsonrpc_refusal(
    LimitExceeded("Too many open sessions; try again shortly.", code=ErrorCode.RATE_LIMITED)
)


@dataclass(slots=True)
class _Tracked:
    authenticated: bool
    opened_at: float


class SessionAdmission:
    def __init__(
        self,
        app: ASGIApp,
        *,
        services: Services,
        manager: ManagerRef,
        path: str = "/mcp",
        max_sessions: int,
        max_unauthenticated: int,
        unauthenticated_ttl: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._services = services
        self._manager = manager
        self._path = path.rstrip("/")
        self._max = max_sessions
        self._max_unauth = max_unauthenticated
        self._ttl = unauthenticated_ttl
        self._now = now
        # Oldest first: eviction takes from the front.
        self._sessions: OrderedDict[str, _Tracked] = OrderedDict()
        self._opening = 0
        self.evicted = 0
        self.expired = 0
        self.refused = 0
        self.promoted = 0
        services.auth.on_authenticated(self._on_authenticated)
        services.metrics.register_section("mcp_sessions", self.stats)

    @classmethod
    def around(cls, mcp_app: Any, **options: Any) -> Callable[[ASGIApp], SessionAdmission]:
        """A factory for ``starlette.middleware.Middleware``, bound to the session manager
        that ``mcp_app`` (FastMCP's Streamable HTTP app) creates in its lifespan."""
        endpoint = next(
            route.endpoint
            for route in mcp_app.routes
            if isinstance(getattr(route, "endpoint", None), StreamableHTTPASGIApp)
        )

        def manager() -> StreamableHTTPSessionManager | None:
            found: StreamableHTTPSessionManager | None = endpoint.session_manager
            return found

        def build(app: ASGIApp) -> SessionAdmission:
            return cls(app, manager=manager, **options)

        return build

    # --- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self._path:
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        session_id = headers.get(MCP_SESSION_ID_HEADER)
        authorization = headers.get("authorization", "")
        if session_id:
            tracked = self._sessions.get(session_id)
            pending = tracked is not None and not tracked.authenticated
            if pending and await self._bearer_ok(authorization):
                self.promote(session_id)
            await self._app(scope, receive, send)
            return
        version = headers.get("mcp-protocol-version")
        opens_session = scope["method"] == "POST" and (
            version is None or version in HANDSHAKE_PROTOCOL_VERSIONS
        )
        if not opens_session:  # 2026-07-28 requests stand alone; no session is kept
            await self._app(scope, receive, send)
            return
        authenticated = await self._bearer_ok(authorization)
        if not await self._admit(authenticated):
            self.refused += 1
            await _refuse(send)
            return
        self._opening += 1
        try:
            await self._app(scope, receive, self._recorder(send, authenticated))
        finally:
            self._opening -= 1

    def _recorder(self, send: Send, authenticated: bool) -> Send:
        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                for key, value in message.get("headers", ()):
                    if key.decode("latin-1").lower() == MCP_SESSION_ID_HEADER:
                        self._sessions[value.decode("latin-1")] = _Tracked(
                            authenticated, self._now()
                        )
            await send(message)

        return recording

    # --- admission ----------------------------------------------------------------------------
    async def _admit(self, authenticated: bool) -> bool:
        await self._sweep()
        if authenticated:
            while self._held() >= self._max:
                if not await self._evict_oldest_unauthenticated():
                    return False
            return True
        while self._unauthenticated() >= self._max_unauth or self._held() >= self._max:
            if not await self._evict_oldest_unauthenticated():
                return False
        return True

    def _held(self) -> int:
        return len(self._sessions) + self._opening

    def _unauthenticated(self) -> int:
        return sum(1 for t in self._sessions.values() if not t.authenticated) + self._opening

    async def _sweep(self) -> None:
        """Forget sessions the SDK has ended; end unauthenticated ones past their TTL."""
        manager = self._manager()
        live = manager._server_instances if manager is not None else {}
        cutoff = self._now() - self._ttl
        for sid, tracked in list(self._sessions.items()):
            if sid not in live:
                self._sessions.pop(sid, None)
            elif not tracked.authenticated and tracked.opened_at < cutoff:
                self.expired += 1
                await self._end(sid)

    async def _evict_oldest_unauthenticated(self) -> bool:
        for sid, tracked in self._sessions.items():
            if not tracked.authenticated:
                self.evicted += 1
                await self._end(sid)
                return True
        return False

    async def _end(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
        manager = self._manager()
        if manager is None:
            return
        transport = manager._server_instances.get(session_id)
        if transport is not None:
            await manager._discard_session(session_id, transport)

    # --- authentication -----------------------------------------------------------------------
    async def _bearer_ok(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        try:
            await self._services.auth.tokens.verify(token.strip())
        except SharedContextError:
            return False
        return True

    def promote(self, session_id: str) -> None:
        tracked = self._sessions.get(session_id)
        if tracked is not None and not tracked.authenticated:
            tracked.authenticated = True
            self.promoted += 1

    def _on_authenticated(self, _: Principal) -> None:
        """A tool call verified its token: the session it came on is authenticated."""
        from fastmcp.server.dependencies import get_http_headers

        session_id = get_http_headers(include={MCP_SESSION_ID_HEADER}).get(MCP_SESSION_ID_HEADER)
        if session_id:
            self.promote(session_id)

    def stats(self) -> dict[str, Any]:
        unauthenticated = sum(1 for t in self._sessions.values() if not t.authenticated)
        return {
            "open": len(self._sessions),
            "unauthenticated": unauthenticated,
            "max_sessions": self._max,
            "max_unauthenticated": self._max_unauth,
            "evicted": self.evicted,
            "expired": self.expired,
            "refused": self.refused,
            "promoted": self.promoted,
        }


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": REFUSAL_STATUS,
            "headers": [(b"content-type", b"application/json"), (b"retry-after", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": REFUSAL})
