"""The only module that wires concrete pieces: settings → storage → bus → services → transports."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlparse

from fastmcp import FastMCP
from fastmcp.server.http import HostOriginGuardMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from shared_context.auth.keys import KeyRing
from shared_context.auth.tokens import TokenService, generate_secret
from shared_context.config import Settings
from shared_context.domain.auth_failures import AuthFailureGuard
from shared_context.domain.clock import Clock, SystemClock
from shared_context.domain.errors import InvalidInput
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.events.pg_notify import PgNotifyBridge
from shared_context.mcp.http_sessions import SessionAdmission
from shared_context.mcp.server import build_mcp
from shared_context.mcp.subscriptions import SubscriptionHub
from shared_context.services.audit import AuditRecorder
from shared_context.services.audit_log import AuditLogService
from shared_context.services.auth import AuthService
from shared_context.services.container import Services
from shared_context.services.coordination import Coordination
from shared_context.services.cross_process import ChangeRelay
from shared_context.services.first_start import ensure_keys
from shared_context.services.locks import LockService
from shared_context.services.maintenance import Maintenance
from shared_context.services.memory import MemoryLimits, MemoryService
from shared_context.services.messages import MessageService
from shared_context.services.metrics import MetricsService
from shared_context.services.presence import PresenceService
from shared_context.services.read_cache import ReadCache
from shared_context.services.remote_events import RemoteEventResolver
from shared_context.services.search import SearchService
from shared_context.services.sessions import SessionService
from shared_context.services.waiting import Recheck, WaitService
from shared_context.storage.backends import Backend, backend_for
from shared_context.storage.base import Store
from shared_context.storage.changes import ChangeFeed
from shared_context.storage.postgres.engine import is_postgres_url
from shared_context.storage.postgres.store import PostgresStore
from shared_context.storage.search import SearchStore
from shared_context.storage.sqlite.store import SqliteStore
from shared_context.telemetry.calls import note_caller
from shared_context.telemetry.tracing import Tracing
from shared_context.web.app import build_routes
from shared_context.web.dashboard import Dashboard
from shared_context.web.headers import TrimmedHeaderValues
from shared_context.web.limits import BodySizeLimit

log = logging.getLogger("shared_context")


def build_store(settings: Settings) -> Store:
    url = settings.resolved_database_url()
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        raw = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ""
        path = Path(raw) if raw.strip() else None  # Path("") would be the current directory
        if path is None:
            raise InvalidInput("SCS_DATABASE_URL must look like sqlite:///path/to/file.db")
        return SqliteStore(
            path,
            read_pool_size=settings.read_pool_size,
            batch_max=settings.write_batch_max,
            queue_max=settings.write_queue_max,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            synchronous=settings.sqlite_synchronous,
        )
    if is_postgres_url(url):
        return PostgresStore(
            url,
            schema=settings.database_schema,
            pool_min=settings.pg_pool_min,
            pool_max=settings.pg_pool_max,
        )
    raise InvalidInput(
        f"Unsupported database URL scheme {parsed.scheme!r}; use sqlite:///path "
        "or postgresql://user@host/db."
    )


def build_search(store: Store) -> SearchStore:
    """The candidate stage of search for the store's backend."""
    return backend_for(store).search


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    tracing: Tracing | None = None,
) -> AsyncIterator[Services]:
    clock = clock or SystemClock()
    store = store or build_store(settings)
    backend = backend_for(store)
    tracing = tracing or Tracing()
    store.instruments.tracing = tracing
    await store.start()
    bridge: PgNotifyBridge | None = None
    relay: ChangeRelay | None = None
    try:
        bus = EventBus()
        if backend.listen_connect is not None:
            # Several instances share this database: carry bus events across them.
            resolver = RemoteEventResolver(store)
            bridge = PgNotifyBridge(bus, backend.listen_connect, resolve=resolver.resolve)
            await bridge.start()
        feed = store.change_feed()
        if feed is not None:
            # Several processes share this SQLite file (SPEC §15): carry their commits here.
            relay = ChangeRelay(feed, bus, poll_seconds=settings.change_poll_seconds)
        fresh = relay.fresh if relay is not None else None
        audit = AuditRecorder(store, clock)
        async with store.startup_lock():  # exactly once for processes starting together
            secret = (
                settings.jwt_secret.get_secret_value()
                if settings.jwt_secret is not None
                else await store.get_or_create_secret("jwt_secret", generate_secret())
            )
            tokens = TokenService(
                store,
                clock,
                secret=secret,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl_seconds=settings.token_ttl_seconds,
                recheck_seconds=settings.revocation_recheck_seconds,
                fresh=fresh,
            )
            keys = KeyRing(
                store, clock, recheck_seconds=settings.revocation_recheck_seconds, fresh=fresh
            )
            keys.on_revoke.append(tokens.forget_checks)
            if bridge is not None or relay is not None:
                share_revocations(bus, keys, tokens)
            await ensure_keys(settings, keys)
        auth = AuthService(
            keys,
            tokens,
            audit,
            AuthFailureGuard(
                max_failures=settings.auth_max_failures,
                window_seconds=settings.auth_failure_window_seconds,
                audit_budget=settings.auth_failure_audit_budget,
            ),
        )
        cache = (
            ReadCache(
                store,
                bus,
                window_size=settings.cache_window,
                max_entries=settings.cache_max_entries,
                ttl_seconds=settings.cache_ttl_seconds,
                max_bytes=settings.cache_max_bytes,
                fresh=fresh,
                # SQLite: one writer at a time, so ids are committed in order (closed pages).
                appends_in_id_order=store.dialect == "sqlite",
            )
            if settings.cache_enabled and store.dialect == "sqlite"
            else None
        )
        sessions = SessionService(store, bus, audit, clock, cache)
        messages = MessageService(
            store,
            sessions,
            bus,
            audit,
            clock,
            max_content_chars=settings.max_content_chars,
            cache=cache,
        )
        memory = MemoryService(backend.memory, sessions, bus, audit, clock, memory_limits(settings))
        audit_log = AuditLogService(
            backend.audit_log,
            clock,
            retention_seconds=settings.audit_retention_days * 86400,
            purge_batch=settings.memory_sweep_batch,
        )
        metrics = MetricsService(store, clock, tracing)
        auth.on_authenticated(note_caller)
        coordination = build_coordination(
            settings, backend, bus, audit, clock, sessions, messages, recheck=tokens.recheck
        )
        auth.on_authenticated(coordination.presence.touch)
        maintenance = Maintenance()
        services = Services(
            settings=settings,
            store=store,
            bus=bus,
            clock=clock,
            audit=audit,
            auth=auth,
            sessions=sessions,
            messages=messages,
            memory=memory,
            audit_log=audit_log,
            metrics=metrics,
            maintenance=maintenance,
            coordination=coordination,
            search=SearchService(backend.search, sessions, messages),
            cross_process=relay,
        )
        register_jobs(services, backend)
        register_coordination(services)
        services.subscriptions = build_subscription_hub(services)
        if cache is not None:
            metrics.register_section("cache", cache.stats)
            metrics.register_section("cache_versions", cache.versions.stats)

            async def trim_cache() -> None:
                cache.trim()

            maintenance.add_job("cache_trim", 60.0, trim_cache)
        metrics.register_section("maintenance", maintenance.status)
        metrics.register_section("waiters", coordination.waits.quota.stats)
        metrics.register_section("token_checks", tokens.stats)
        metrics.register_section("auth_failures", auth.guard.stats)
        if bridge is not None:
            metrics.register_section("event_bridge", bridge.stats)
        if relay is not None and feed is not None:
            metrics.register_section("cross_process", relay.stats)
            register_change_log_trim(services, feed)
            relay.start()
        maintenance.start()
        try:
            yield services
        finally:
            await maintenance.stop()
            await coordination.close()
    finally:
        if relay is not None:
            await relay.stop()
        if bridge is not None:
            await bridge.stop()
        await store.close()


def register_change_log_trim(app: Services, feed: ChangeFeed) -> None:
    retention = app.settings.change_log_retention_seconds

    async def trim_change_log() -> None:
        await feed.trim(app.clock.now() - retention)

    app.maintenance.add_job("change_log_trim", min(60.0, retention / 4), trim_change_log)


def register_jobs(app: Services, backend: Backend) -> None:
    """Every background job of the server, in one place."""
    clock, store = app.clock, app.store

    async def storage_upkeep() -> None:
        await store.maintain(clock.now())

    app.maintenance.add_job(
        "storage_upkeep", app.settings.maintenance_interval_seconds, storage_upkeep
    )

    async def memory_expiry() -> None:
        await app.memory.sweep_expired()

    async def audit_retention() -> None:
        await app.audit_log.apply_retention()

    recover, min_free = backend.recover_space, app.settings.storage_min_free_bytes
    if recover is not None:

        async def storage_recovery() -> None:
            assert recover is not None
            await recover(min_free)

        app.maintenance.add_job(
            "storage_recovery", app.settings.storage_recovery_seconds, storage_recovery
        )

    async def auth_failure_summary() -> None:
        await app.auth.flush_failures()

    app.maintenance.add_job(
        "auth_failure_summary", app.settings.auth_failure_window_seconds, auth_failure_summary
    )

    interval = app.settings.memory_sweep_interval_seconds
    app.maintenance.add_job("memory_expiry", interval, memory_expiry)
    app.maintenance.add_job("audit_retention", interval, audit_retention)


def memory_limits(settings: Settings) -> MemoryLimits:
    return MemoryLimits(
        max_value_bytes=settings.memory_max_value_bytes,
        max_entries_per_agent=settings.memory_max_entries_per_agent,
        max_bytes_per_agent=settings.memory_max_bytes_per_agent,
        sweep_batch=settings.memory_sweep_batch,
    )


def register_coordination(app: Services) -> None:
    """Coordination's background jobs and its figures for metrics."""
    coordination, settings = app.coordination, app.settings
    app.maintenance.add_job(
        "presence_flush", settings.presence_flush_seconds, coordination.presence.flush
    )
    app.maintenance.add_job("lock_sweep", settings.lock_sweep_seconds, coordination.locks.sweep)
    for name, gauge in coordination.gauges().items():
        app.metrics.register_gauge("coordination", name, gauge)


def build_subscription_hub(app: Services) -> SubscriptionHub:
    """The resource-subscription hub, wired here: fed by the event bus, its counts reported to
    metrics and coordination, its listen streams ended on shutdown. mcp/ only installs its
    protocol handlers."""
    hub = SubscriptionHub(app)
    app.bus.subscribe(hub.on_event)
    app.coordination.subscription_gauges.append(lambda: hub.count)
    app.metrics.register_section("subscriptions", hub.stats)
    app.coordination.stream_closers.append(hub.end_streams)
    return hub


def build_coordination(
    settings: Settings,
    backend: Backend,
    bus: EventBus,
    audit: AuditRecorder,
    clock: Clock,
    sessions: SessionService,
    messages: MessageService,
    *,
    recheck: Recheck,
) -> Coordination:
    coord_store, store = backend.coordination, backend.store
    return Coordination(
        presence=PresenceService(coord_store, sessions, bus, audit, clock),
        locks=LockService(coord_store, sessions, bus, audit, clock),
        waits=WaitService(
            store,
            messages,
            bus,
            max_waiters_per_agent=settings.max_waiters_per_agent,
            max_waiters=settings.max_waiters,
            max_waiters_per_connection=settings.max_waiters_per_connection,
            recheck=recheck,
        ),
    )


def share_revocations(bus: EventBus, keys: KeyRing, tokens: TokenService) -> None:
    """Several instances: a revocation here makes every instance look tokens up again at
    once (instead of within SCS_REVOCATION_RECHECK_SECONDS); a resync does the same."""

    def announce() -> None:
        bus.publish(Event(EventKind.AUTH_REVOKED))

    def on_event(event: Event) -> None:
        if event.origin == "remote" and event.kind in (EventKind.AUTH_REVOKED, EventKind.RESYNC):
            tokens.forget_checks()
            keys.forget_checks()

    keys.on_revoke.append(announce)
    tokens.on_revoke.append(announce)
    bus.subscribe(on_event)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen_address(settings: Settings) -> None:
    if is_loopback(settings.host) or settings.allow_remote:
        return
    if settings.api_key is None and settings.admin_api_key is None:
        raise InvalidInput(
            f"Refusing to listen on {settings.host} with generated keys: anyone who can reach "
            "this address could use them. Set SCS_API_KEY/SCS_ADMIN_API_KEY, or pass "
            "--allow-remote (SCS_ALLOW_REMOTE=true) if you really mean it."
        )


def build_http_app(app: Services, mcp: FastMCP | None = None) -> Starlette:
    mcp = mcp or build_mcp(app)
    mcp_app = mcp.http_app(path="/mcp", host_origin_protection=False)
    settings = app.settings
    dashboard = Dashboard(app)
    return Starlette(
        routes=[*build_routes(app), *dashboard.routes(), Mount("/", app=mcp_app)],
        lifespan=dashboard.lifespan(mcp_app.lifespan),
        middleware=[
            Middleware(TrimmedHeaderValues),  # before anything reads a header
            Middleware(
                HostOriginGuardMiddleware,
                allowed_hosts=[settings.host, *settings.allowed_hosts],
                allowed_origins=settings.allowed_origins,
                mode="strict",
            ),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
            Middleware(
                SessionAdmission.around(
                    mcp_app,
                    services=app,
                    max_sessions=settings.max_mcp_sessions,
                    max_unauthenticated=settings.max_unauthenticated_sessions,
                    unauthenticated_ttl=settings.unauthenticated_session_ttl_seconds,
                )
            ),
        ],
    )
