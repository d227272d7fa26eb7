"""Resource subscriptions to ``session://{session_id}``, filtered by visibility per subscriber.

FastMCP 4 implements no subscriptions, so this adapter registers the protocol handlers on
FastMCP's low-level MCP SDK server:

- protocol 2025-11-25 (handshake era): ``resources/subscribe`` / ``resources/unsubscribe``;
  notifications ``notifications/resources/updated`` go out on the connection's standalone
  channel (the Streamable HTTP GET stream, or the stdio pipe). Subscriptions end with the
  connection (its exit stack).
- protocol 2026-07-28: ``subscriptions/listen``; the request's response stream is the
  subscription (acknowledgement first, then stamped ``notifications/resources/updated``).
  Modelled on the SDK's ``ListenHandler``, which cannot filter per subscriber.

The SDK derives the advertised ``resources.subscribe`` capability from these handlers being
registered, for each protocol era, so the capability is truthful.

The hub is built and wired by the composition root (``bootstrap.build_subscription_hub``: fed by
the event bus, counted by metrics, its streams ended on shutdown); this module only registers
its protocol handlers (``install``).

The subscriber's identity is captured when it subscribes, by ``mcp.identity.subscriber``: the
HTTP bearer token or connection headers (over stdio, the server's environment). The hub is
fed by the event bus: on every message_added or visibility_changed event it notifies only
subscribers that may see the message (before or after a visibility change) per
``domain.visibility.can_see``; a change a subscriber may not see sends nothing.

Hostile clients (SPEC §19): the identity is re-checked at every delivery (expiry, revoked
token or key; ``TokenService.confirmed`` answers from memory when it can, else
``TokenService.recheck`` asks the database before anything is sent), so a revoked token gets
no further notification and its subscriptions end. Subscriptions and listen streams are
bounded in total, per agent id and per connection (``domain.quotas``); a refusal is
``RATE_LIMITED`` with JSON-RPC code ``RATE_LIMITED_CODE``, not an internal error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable, Hashable
from typing import Any

import mcp.types as mt
from fastmcp import FastMCP
from mcp.server.context import ServerRequestContext
from mcp.shared.subscriptions import SUBSCRIPTION_ID_META_KEY

from shared_context.domain.errors import (
    ERROR_FORMS,
    AuthError,
    ErrorCode,
    InvalidInput,
    LimitExceeded,
    SharedContextError,
)
from shared_context.domain.models import Message, Principal, Visibility
from shared_context.domain.permissions import Permission, require
from shared_context.domain.quotas import SlotQuota
from shared_context.domain.visibility import can_see
from shared_context.events.bus import Event, EventKind
from shared_context.mcp.errors import jsonrpc_error, protocol_fault
from shared_context.mcp.identity import subscriber
from shared_context.mcp.listen_queue import ListenQueue
from shared_context.mcp.quotas import connection_of
from shared_context.services.container import Services

log = logging.getLogger(__name__)

URI_RE = re.compile(r"^session://(session_[a-f0-9]{16})$")
MESSAGE_EVENTS = frozenset({EventKind.MESSAGE_ADDED, EventKind.VISIBILITY_CHANGED})
MAX_URIS_PER_SUBSCRIBER = 100
LISTEN_BACKLOG = 256
VISIBILITIES = frozenset(v.value for v in Visibility)
AUTH_ERROR_CODE = ERROR_FORMS[ErrorCode.TOKEN_INVALID].jsonrpc_code
RATE_LIMITED_CODE = ERROR_FORMS[ErrorCode.RATE_LIMITED].jsonrpc_code


@dataclasses.dataclass(eq=False)
class Subscriber:
    principal: Principal
    uris: set[str]
    deliver: Callable[[str], None]
    era: str
    connection: Hashable = None
    on_revoked: Callable[[SharedContextError], None] | None = None


class SubscriptionHub:
    def __init__(self, app: Services) -> None:
        self._app = app
        self._subs: dict[object, Subscriber] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._queues: set[ListenQueue] = set()
        self.notifications_sent = 0
        self.notifications_suppressed = 0
        self.revoked_dropped = 0
        settings = app.settings
        self.quota = SlotQuota(
            "Subscription",
            total=settings.max_subscriptions,
            per_agent=settings.max_subscriptions_per_agent,
            per_connection=settings.max_subscriptions_per_connection,
        )
        self.streams = SlotQuota(
            "Listen stream",
            total=settings.max_streams,
            per_agent=settings.max_streams_per_agent,
            per_connection=settings.max_streams_per_connection,
        )

    @property
    def count(self) -> int:
        return self.quota.used

    def add(self, key: object, subscriber: Subscriber) -> None:
        """Register a subscriber; its URIs count against the quotas (or RATE_LIMITED)."""
        self._take(subscriber, len(subscriber.uris))
        self.remove(key)
        self._subs[key] = subscriber

    def remove(self, key: object) -> None:
        sub = self._subs.pop(key, None)
        if sub is not None:
            self.quota.release(sub.principal.agent_id, sub.connection, len(sub.uris))

    def _take(self, sub: Subscriber, count: int) -> None:
        try:
            self.quota.acquire(sub.principal.agent_id, sub.connection, count)
        except LimitExceeded as exc:
            raise jsonrpc_error(exc) from exc

    def stats(self) -> dict[str, Any]:
        return {
            "subscriptions": self.quota.stats(),
            "streams": self.streams.stats(),
            "notifications_sent": self.notifications_sent,
            "notifications_suppressed": self.notifications_suppressed,
            "revoked_dropped": self.revoked_dropped,
        }

    def install(self, mcp: FastMCP) -> None:
        server = mcp._mcp_server
        server.add_request_handler("resources/subscribe", mt.SubscribeRequestParams, self.subscribe)
        server.add_request_handler(
            "resources/unsubscribe", mt.UnsubscribeRequestParams, self.unsubscribe
        )
        server.add_request_handler(
            "subscriptions/listen", mt.SubscriptionsListenRequestParams, self.listen
        )

    # --- identity and checks ------------------------------------------------------------------
    async def _principal(self, ctx: ServerRequestContext[Any, Any]) -> Principal:
        headers = getattr(ctx.request, "headers", None)
        try:
            principal = await subscriber(self._app, headers)
            require(principal, Permission.READ)
        except SharedContextError as exc:
            raise jsonrpc_error(exc) from exc
        return principal

    async def _check_uri(self, principal: Principal, uri: str) -> str:
        match = URI_RE.fullmatch(uri)
        if match is None:
            raise jsonrpc_error(
                InvalidInput("Only session://{session_id} resources can be subscribed to.")
            )
        try:
            await self._app.sessions.require_session(match.group(1))
        except SharedContextError as exc:
            raise jsonrpc_error(exc) from exc
        return uri

    # --- 2025-11-25: resources/subscribe ------------------------------------------------------
    async def subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: mt.SubscribeRequestParams
    ) -> mt.EmptyResult:
        principal = await self._principal(ctx)
        uri = await self._check_uri(principal, str(params.uri))
        connection = ctx.session._connection
        key = (id(connection), principal.agent_id)
        sub = self._subs.get(key)
        if sub is None:
            sub = Subscriber(
                principal,
                set(),
                self._legacy_sender(connection),
                "2025-11-25",
                connection_of(ctx.request, connection),
            )
            self.add(key, sub)
            connection.exit_stack.callback(self.remove, key)
        if uri in sub.uris:
            sub.principal = principal
            return mt.EmptyResult()
        if len(sub.uris) >= MAX_URIS_PER_SUBSCRIBER:
            raise jsonrpc_error(InvalidInput("Too many subscriptions on this connection."))
        self._take(sub, 1)
        sub.principal = principal
        sub.uris.add(uri)
        return mt.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: mt.UnsubscribeRequestParams
    ) -> mt.EmptyResult:
        connection = ctx.session._connection
        for key, sub in list(self._subs.items()):
            if isinstance(key, tuple) and key[0] == id(connection):
                if str(params.uri) in sub.uris:
                    sub.uris.discard(str(params.uri))
                    self.quota.release(sub.principal.agent_id, sub.connection)
                if not sub.uris:
                    self.remove(key)
        return mt.EmptyResult()

    def _legacy_sender(self, connection: Any) -> Callable[[str], None]:
        pending: set[str] = set()

        async def send(uri: str) -> None:
            pending.discard(uri)
            await connection.notify("notifications/resources/updated", {"uri": uri})

        def deliver(uri: str) -> None:
            if uri in pending:  # an update is already on its way: level-triggered, coalesce
                return
            pending.add(uri)
            task = asyncio.get_running_loop().create_task(send(uri))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return deliver

    # --- 2026-07-28: subscriptions/listen -----------------------------------------------------
    async def listen(
        self, ctx: ServerRequestContext[Any, Any], params: mt.SubscriptionsListenRequestParams
    ) -> mt.SubscriptionsListenResult:
        subscription_id = ctx.request_id
        if subscription_id is None:
            raise protocol_fault("subscriptions/listen requires a request id")
        principal = await self._principal(ctx)
        requested = list(params.notifications.resource_subscriptions or ())
        if len(requested) > MAX_URIS_PER_SUBSCRIBER:
            raise jsonrpc_error(InvalidInput("Too many resource subscriptions in one listen."))
        uris = [await self._check_uri(principal, uri) for uri in dict.fromkeys(requested)]
        where = connection_of(ctx.request, ctx.session._connection)
        try:
            self.streams.acquire(principal.agent_id, where)
        except LimitExceeded as exc:
            raise jsonrpc_error(exc) from exc
        try:
            return await self._listen(ctx, principal, uris, where, subscription_id)
        finally:
            self.streams.release(principal.agent_id, where)

    async def _listen(
        self,
        ctx: ServerRequestContext[Any, Any],
        principal: Principal,
        uris: list[str],
        where: Hashable,
        subscription_id: Any,
    ) -> mt.SubscriptionsListenResult:
        # Only resource updates are delivered here; list-changed kinds are not honoured.
        honored = mt.SubscriptionFilter(resource_subscriptions=uris or None)
        meta: dict[str, Any] = {SUBSCRIPTION_ID_META_KEY: subscription_id}
        queue = ListenQueue(subscription_id, LISTEN_BACKLOG)
        self._queues.add(queue)
        key = object()
        self.add(
            key,
            Subscriber(principal, set(uris), queue.deliver, "2026-07-28", where, queue.revoke),
        )
        try:
            await ctx.session.send_notification(
                mt.SubscriptionsAcknowledgedNotification(
                    params=mt.SubscriptionsAcknowledgedNotificationParams(
                        notifications=honored, _meta=meta
                    )
                ),
                related_request_id=subscription_id,
            )
            async for uri in queue:
                if queue.revoked is not None:
                    break
                await ctx.session.send_notification(
                    mt.ResourceUpdatedNotification(
                        params=mt.ResourceUpdatedNotificationParams(uri=uri, _meta=meta)
                    ),
                    related_request_id=subscription_id,
                )
                self.notifications_sent += 1
        finally:
            self.remove(key)
            self._queues.discard(queue)
            queue.close()
        if queue.revoked is not None:  # the identity went bad: say why the stream ended
            raise jsonrpc_error(queue.revoked)
        return mt.SubscriptionsListenResult(_meta=meta)

    def end_streams(self) -> None:
        """End every listen stream gracefully: each sends its final result (shutdown)."""
        for queue in list(self._queues):
            queue.end()

    # --- fan-out from the event bus -----------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Fed by the event bus (``bootstrap.build_subscription_hub`` subscribes it)."""
        if self._subs and event.kind is EventKind.RESYNC:
            self._resync()
            return
        if not self._subs or event.session_id is None:
            return
        uri = f"session://{event.session_id}"
        message = event.data.get("message")
        if event.kind in MESSAGE_EVENTS:
            if not isinstance(message, Message):
                return
            seen_by: Callable[[Principal], bool] = _visibility_check(
                message, event.data.get("old_visibility")
            )
        elif event.kind is EventKind.SESSION_CHANGED:
            seen_by = _everyone
        else:
            return
        tokens = self._app.auth.tokens
        for key, sub in list(self._subs.items()):
            if uri not in sub.uris:
                continue
            if not seen_by(sub.principal):
                self.notifications_suppressed += 1
                continue
            confirmed = tokens.confirmed(sub.principal)
            if confirmed is None:  # not confirmed lately: ask the database, then deliver
                self._spawn(self._deliver_checked(key, sub, uri))
            elif confirmed:
                self._deliver(sub, uri)
            else:
                self._drop(key, sub, None)

    def _deliver(self, sub: Subscriber, uri: str) -> None:
        try:
            sub.deliver(uri)
        except Exception:
            log.exception("subscription delivery failed")
        else:
            if sub.era != "2026-07-28":
                self.notifications_sent += 1

    async def _deliver_checked(self, key: object, sub: Subscriber, uri: str) -> None:
        try:
            await self._app.auth.tokens.recheck(sub.principal)
        except SharedContextError as exc:
            self._drop(key, sub, exc)
            return
        if self._subs.get(key) is sub:
            self._deliver(sub, uri)

    def _drop(self, key: object, sub: Subscriber, exc: SharedContextError | None) -> None:
        """The identity it subscribed with is no longer valid: end the subscription."""
        if self._subs.get(key) is not sub:
            return
        self.remove(key)
        self.revoked_dropped += 1
        if sub.on_revoked is not None:
            sub.on_revoked(
                exc
                or AuthError(
                    "The token has expired; subscribe again with a fresh one.",
                    code=ErrorCode.TOKEN_EXPIRED,
                )
            )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _resync(self) -> None:
        """Cross-instance events may have been missed (the PostgreSQL bridge reconnected):
        tell every subscriber its resources may have changed, so it re-reads them (the
        notification names only the URI it subscribed to; the read applies visibility)."""
        for sub in list(self._subs.values()):
            for uri in list(sub.uris):
                try:
                    sub.deliver(uri)
                except Exception:
                    log.exception("subscription delivery failed")


def _everyone(_: Principal) -> bool:
    return True


def _visibility_check(message: Message, old: object) -> Callable[[Principal], bool]:
    before: Message | None = None
    if isinstance(old, str) and old in VISIBILITIES and old != message.visibility.value:
        before = dataclasses.replace(message, visibility=Visibility(old))

    def check(viewer: Principal) -> bool:
        return can_see(viewer, message) or (before is not None and can_see(viewer, before))

    return check
