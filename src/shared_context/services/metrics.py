"""Measured operating figures: per-tool latency, storage, caches, coordination, totals, and the
PostgreSQL migration readiness verdict. Every number here is counted or measured.

One set of Prometheus instruments per server (its own ``CollectorRegistry``) is the only
record: ``/metrics`` exposes it, and the JSON report (``get_performance_metrics``) is read
back from it, its percentiles computed from the same histogram buckets PromQL uses.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Info, PlatformCollector, ProcessCollector
from prometheus_client.metrics_core import Metric

from shared_context import __version__
from shared_context.domain.clock import Clock
from shared_context.domain.models import Principal
from shared_context.domain.permissions import Permission, require
from shared_context.services import metric_families as families
from shared_context.services.results import Criterion, MetricsReport, Readiness, ToolFigures
from shared_context.storage.base import Store
from shared_context.telemetry import readings
from shared_context.telemetry.calls import MAX_TOOL_NAMES, OTHER_TOOLS, CallRecorder
from shared_context.telemetry.tracing import Tracing

__all__ = ["MAX_TOOL_NAMES", "OTHER_TOOLS", "MetricsService"]

GaugeFn = Callable[[], Awaitable[float] | float]

# Thresholds of the seed's PostgreSQL migration criteria.
P95_WRITE_MS = 50.0
CONCURRENT_WRITERS = 10
DB_BYTES = 1024**3
WRITES_PER_DAY = 100_000
ACTIVE_AGENTS = 20
SEARCH_P95_MS = 1000.0


class MetricsService:
    def __init__(self, store: Store, clock: Clock, tracing: Tracing | None = None) -> None:
        self._store = store
        self._clock = clock
        self._started = time.monotonic()
        self._gauges: dict[str, dict[str, GaugeFn]] = {}
        self._sections: dict[str, Callable[[], dict[str, Any]]] = {}
        self._last: dict[str, Any] = {}
        self.registry = CollectorRegistry()
        self.calls = CallRecorder(self.registry, tracing or Tracing())
        self.registry.register(store.instruments)
        self.registry.register(_Figures(self))
        ProcessCollector(registry=self.registry)
        Info(
            "scs_server", "This server's version and storage backend.", registry=self.registry
        ).info({"version": __version__, "backend": store.dialect})
        PlatformCollector(registry=self.registry)

    # --- recording --------------------------------------------------------------------------
    def record_tool(self, name: str, seconds: float, ok: bool, code: str | None = None) -> None:
        """A call measured elsewhere (the middleware uses ``calls.call`` instead)."""
        self.calls.observe(name, seconds, None if ok else code or "INTERNAL_ERROR")

    def register_gauge(self, section: str, name: str, fn: GaugeFn) -> None:
        """A figure another component measures (e.g. coordination: active_agents)."""
        self._gauges.setdefault(section, {})[name] = fn

    def register_section(self, name: str, fn: Callable[[], dict[str, Any]]) -> None:
        """A whole block of figures (e.g. cache levels) reported as-is."""
        self._sections[name] = fn

    # --- reading ----------------------------------------------------------------------------
    def tool_stats(self) -> dict[str, dict[str, Any]]:
        durations = readings.distributions(self.calls.duration.collect(), "tool")
        errors = readings.totals(self.calls.errors.collect(), "tool")
        out: dict[str, dict[str, Any]] = {}
        for name in sorted(durations):
            dist = durations[name]
            out[name] = {
                "calls": int(dist.count),
                "errors": int(errors.get(name, 0)),
                "avg_ms": round(1000 * dist.mean(), 3),
                "p50_ms": round(1000 * dist.quantile(0.50), 3),
                "p95_ms": round(1000 * dist.quantile(0.95), 3),
                "p99_ms": round(1000 * dist.quantile(0.99), 3),
            }
        return out

    def uptime_seconds(self) -> float:
        return time.monotonic() - self._started

    async def _gauge_values(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for section, gauges in self._gauges.items():
            values: dict[str, float] = {}
            for name, fn in gauges.items():
                value = fn()
                if not isinstance(value, int | float):
                    value = await value
                values[name] = value
            out[section] = values
        return out

    async def snapshot(self) -> MetricsReport:
        """The JSON report; also refreshes the levels ``/metrics`` exposes (database size,
        active agents, locks, totals), which need the database to measure."""
        tools = self.tool_stats()
        database = dict(self._store.stats())
        database["backend"] = self._store.dialect
        database["size_bytes"] = await self._store.size_bytes()
        totals: dict[str, Any] = dict(await self._store.totals(self._clock.now() - 86400))
        totals["uptime_seconds"] = round(self.uptime_seconds(), 3)
        gauges = await self._gauge_values()
        coordination = gauges.pop("coordination", {})
        sections = {name: fn() for name, fn in self._sections.items()}
        cache = sections.pop("cache", {})
        search_p95 = max(
            (tools[name]["p95_ms"] for name in tools if name.startswith("search")), default=0.0
        )
        readiness = self._readiness(database, totals, coordination, search_p95)
        self._last = {
            "database": database,
            "totals": totals,
            "coordination": coordination,
            "gauges": gauges,
            "migration_readiness": readiness,
        }
        # The figures blocks stay open objects; other components' gauges and sections are
        # reported beside them as further fields.
        return MetricsReport(
            tools={name: ToolFigures(**figures) for name, figures in tools.items()},
            database=database,
            cache=cache,
            coordination=coordination,
            totals=totals,
            migration_readiness=Readiness(
                should_migrate=readiness["should_migrate"],
                verdict=readiness["verdict"],
                criteria=[Criterion(**row) for row in readiness["criteria"]],
            ),
            **gauges,
            **sections,
        )

    def families(self) -> Iterator[Metric]:
        """Figures reported by other components, as of the last ``snapshot`` for those that
        need the database, live for the rest."""
        last = self._last
        yield from families.coordination_families(last.get("coordination", {}))
        yield from families.gauge_families(last.get("gauges", {}))
        yield from families.totals_families(last.get("totals", {}), last.get("database", {}))
        if "migration_readiness" in last:
            yield from families.readiness_families(last["migration_readiness"])
        for name, fn in self._sections.items():
            render = families.SECTION_FAMILIES.get(name)
            if render is not None:
                yield from render(fn())

    @staticmethod
    def _readiness(
        database: dict[str, Any],
        totals: dict[str, Any],
        coordination: dict[str, float],
        search_p95_ms: float,
    ) -> dict[str, Any]:
        criteria = [
            ("p95_write_latency_ms", database.get("write_p95_ms", 0.0), P95_WRITE_MS),
            ("concurrent_writers", database.get("max_writer_queue_depth", 0), CONCURRENT_WRITERS),
            ("database_bytes", database.get("size_bytes", 0), DB_BYTES),
            ("writes_last_24h", totals.get("writes_last_24h", 0), WRITES_PER_DAY),
            ("active_agents", coordination.get("active_agents", 0), ACTIVE_AGENTS),
            ("search_p95_ms", search_p95_ms, SEARCH_P95_MS),
        ]
        rows = [
            {"name": name, "value": value, "threshold": threshold, "triggered": value > threshold}
            for name, value, threshold in criteria
        ]
        triggered = [row["name"] for row in rows if row["triggered"]]
        if database.get("backend") != "sqlite":
            verdict = "already on a scale-out backend"
        elif triggered:
            verdict = "consider PostgreSQL: " + ", ".join(triggered)
        else:
            verdict = "SQLite is sufficient"
        return {
            "should_migrate": bool(triggered) and database.get("backend") == "sqlite",
            "verdict": verdict,
            "criteria": rows,
        }

    async def report(self, principal: Principal) -> MetricsReport:
        require(principal, Permission.ADMIN)
        return await self.snapshot()


class _Figures:
    """Collector adapter: the registry asks, the service answers."""

    def __init__(self, service: MetricsService) -> None:
        self._service = service

    def collect(self) -> Iterator[Metric]:
        return self._service.families()
