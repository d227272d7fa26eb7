"""Measured operating figures: per-tool latency, storage, caches, coordination, totals, and the
PostgreSQL migration readiness verdict. Every number here is counted or measured."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from shared_context.domain.clock import Clock
from shared_context.domain.models import Principal
from shared_context.domain.permissions import Permission, require
from shared_context.storage.base import Store

RESERVOIR = 4096
MAX_TOOL_NAMES = 128
OTHER_TOOLS = "(other)"
GaugeFn = Callable[[], Awaitable[float] | float]

# Thresholds of the seed's PostgreSQL migration criteria.
P95_WRITE_MS = 50.0
CONCURRENT_WRITERS = 10
DB_BYTES = 1024**3
WRITES_PER_DAY = 100_000
ACTIVE_AGENTS = 20
SEARCH_P95_MS = 1000.0


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class _ToolStats:
    calls: int = 0
    errors: int = 0
    total_seconds: float = 0.0
    samples: deque[float] = field(default_factory=lambda: deque(maxlen=RESERVOIR))

    def snapshot(self) -> dict[str, Any]:
        ordered = sorted(self.samples)
        return {
            "calls": self.calls,
            "errors": self.errors,
            "avg_ms": round(1000 * self.total_seconds / self.calls, 3) if self.calls else 0.0,
            "p50_ms": round(1000 * percentile(ordered, 50), 3),
            "p95_ms": round(1000 * percentile(ordered, 95), 3),
            "p99_ms": round(1000 * percentile(ordered, 99), 3),
        }


class MetricsService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._tools: dict[str, _ToolStats] = {}
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._gauges: dict[str, dict[str, GaugeFn]] = {}
        self._sections: dict[str, Callable[[], dict[str, Any]]] = {}

    # --- recording --------------------------------------------------------------------------
    def record_tool(self, name: str, seconds: float, ok: bool) -> None:
        with self._lock:
            stats = self._tools.get(name)
            if stats is None:
                if len(self._tools) >= MAX_TOOL_NAMES:  # names come from callers: bounded
                    name = OTHER_TOOLS
                stats = self._tools.setdefault(name, _ToolStats())
            stats.calls += 1
            stats.total_seconds += seconds
            stats.samples.append(seconds)
            if not ok:
                stats.errors += 1

    def register_gauge(self, section: str, name: str, fn: GaugeFn) -> None:
        """A figure another component measures (e.g. coordination: active_agents)."""
        self._gauges.setdefault(section, {})[name] = fn

    def register_section(self, name: str, fn: Callable[[], dict[str, Any]]) -> None:
        """A whole block of figures (e.g. cache levels) reported as-is."""
        self._sections[name] = fn

    # --- reading ----------------------------------------------------------------------------
    def tool_stats(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: stats.snapshot() for name, stats in sorted(self._tools.items())}

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

    async def snapshot(self) -> dict[str, Any]:
        tools = self.tool_stats()
        database = dict(self._store.stats())
        database["backend"] = self._store.dialect
        database["size_bytes"] = await self._store.size_bytes()
        write_samples = sorted(database.pop("recent_write_seconds", []))
        database["write_p95_ms"] = round(1000 * percentile(write_samples, 95), 3)
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
        return {
            "success": True,
            "tools": tools,
            "database": database,
            "cache": cache,
            "coordination": coordination,
            "totals": totals,
            **gauges,
            **sections,
            "migration_readiness": readiness,
        }

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

    async def report(self, principal: Principal) -> dict[str, Any]:
        require(principal, Permission.ADMIN)
        return await self.snapshot()
