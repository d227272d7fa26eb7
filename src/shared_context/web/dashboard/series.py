"""A small bounded time series of get_performance_metrics figures, for the metrics charts.

One task per server samples the metrics service every ``interval`` seconds into a ring of at
most ``points`` samples (``collections.deque(maxlen=…)``): memory is bounded by construction.
Each sample keeps only the few numbers the charts draw. Charts are drawn on the server as SVG
polylines (no chart library, no script): ``chart`` turns a series into view-box coordinates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CHART_W = 300.0
CHART_H = 80.0


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # wall-clock seconds
    figures: dict[str, float]


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    label: str
    unit: str
    points: str  # SVG polyline points in a CHART_W x CHART_H view box
    latest: float | None
    low: float
    high: float
    samples: int


# (key, label, unit) of every charted figure; the order is the panel's order.
CHARTS: tuple[tuple[str, str, str], ...] = (
    ("calls_per_s", "Tool calls per second", "/s"),
    ("errors_per_s", "Tool errors per second", "/s"),
    ("p95_ms", "Slowest tool p95 latency", "ms"),
    ("write_p95_ms", "Database write p95", "ms"),
    ("messages", "Messages stored", ""),
    ("active_agents", "Active agents", ""),
    ("live_locks", "Live locks", ""),
    ("cache_hit_ratio", "Cache hit ratio", ""),
    ("db_mb", "Database size", "MB"),
    ("streams", "Open dashboard streams", ""),
)


def figures(snapshot: dict[str, Any], previous: Sample | None, at: float) -> dict[str, float]:
    """The charted numbers of one get_performance_metrics snapshot (rates from the previous)."""
    tools = snapshot.get("tools") or {}
    calls = float(sum(t.get("calls", 0) for t in tools.values()))
    errors = float(sum(t.get("errors", 0) for t in tools.values()))
    cache = snapshot.get("cache") or {}
    hits = sum(float(level.get("hits", 0)) for level in cache.values() if isinstance(level, dict))
    misses = sum(
        float(level.get("misses", 0)) for level in cache.values() if isinstance(level, dict)
    )
    database = snapshot.get("database") or {}
    totals = snapshot.get("totals") or {}
    coordination = snapshot.get("coordination") or {}
    out = {
        "calls": calls,
        "errors": errors,
        "p95_ms": max((float(t.get("p95_ms", 0.0)) for t in tools.values()), default=0.0),
        "write_p95_ms": float(database.get("write_p95_ms", 0.0)),
        "messages": float(totals.get("messages", 0)),
        "active_agents": float(coordination.get("active_agents", 0)),
        "live_locks": float(coordination.get("live_locks", 0)),
        "cache_hit_ratio": round(hits / (hits + misses), 4) if hits + misses else 0.0,
        "db_mb": round(float(database.get("size_bytes", 0)) / 1e6, 3),
        "streams": float((snapshot.get("dashboard") or {}).get("open_streams", 0)),
    }
    span = at - previous.at if previous is not None else 0.0
    for rate, total in (("calls_per_s", "calls"), ("errors_per_s", "errors")):
        if previous is None or span <= 0:
            out[rate] = 0.0
        else:
            delta = out[total] - previous.figures.get(total, 0.0)
            out[rate] = round(max(0.0, delta) / span, 3)
    return out


class MetricsSeries:
    def __init__(
        self,
        sample: Callable[[], Awaitable[dict[str, Any]]],
        *,
        interval: float,
        points: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sample = sample
        self._clock = clock
        self.interval = interval
        self.samples: deque[Sample] = deque(maxlen=points)
        self.failures = 0
        self._task: asyncio.Task[None] | None = None

    async def take(self) -> Sample:
        snapshot = await self._sample()
        at = self._clock()
        previous = self.samples[-1] if self.samples else None
        sample = Sample(at, figures(snapshot, previous, at))
        self.samples.append(sample)
        return sample

    async def _run(self) -> None:
        while True:
            try:
                await self.take()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                log.warning("dashboard metrics sample failed; retrying", exc_info=True)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="scs-dashboard-metrics"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def charts(self) -> list[Chart]:
        samples = list(self.samples)
        return [chart(key, label, unit, samples) for key, label, unit in CHARTS]


def chart(key: str, label: str, unit: str, samples: list[Sample]) -> Chart:
    values = [s.figures.get(key, 0.0) for s in samples]
    if not values:
        return Chart(key, label, unit, "", None, 0.0, 0.0, 0)
    low, high = min(values), max(values)
    if high == low:
        high = low + 1.0
    step = CHART_W / max(1, len(values) - 1)
    pad = 4.0
    coords = []
    for i, value in enumerate(values):
        x = round(i * step, 2)
        y = round(CHART_H - pad - (value - low) / (high - low) * (CHART_H - 2 * pad), 2)
        coords.append(f"{x},{y}")
    return Chart(key, label, unit, " ".join(coords), values[-1], low, max(values), len(values))
