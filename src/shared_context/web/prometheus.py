"""``/metrics``: the metrics service's snapshot in Prometheus text format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response

from shared_context.domain.errors import AuthError, PermissionDenied
from shared_context.domain.permissions import Permission
from shared_context.services.container import Services
from shared_context.web.errors import error_response


class SnapshotCollector:
    def __init__(self, snapshot: dict[str, Any]) -> None:
        self._snap = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self._snap
        calls = CounterMetricFamily("scs_tool_calls", "Tool calls", labels=["tool"])
        errors = CounterMetricFamily("scs_tool_errors", "Tool calls that failed", labels=["tool"])
        latency = GaugeMetricFamily(
            "scs_tool_latency_ms", "Tool latency percentile (ms)", labels=["tool", "quantile"]
        )
        for tool, stats in snap["tools"].items():
            calls.add_metric([tool], stats["calls"])
            errors.add_metric([tool], stats["errors"])
            for q in ("p50", "p95", "p99"):
                latency.add_metric([tool, q], stats[f"{q}_ms"])
        yield from (calls, errors, latency)
        yield from _flat("scs_database", snap["database"])
        yield from _flat("scs_totals", snap["totals"])
        yield from _flat("scs_coordination", snap["coordination"])
        for level, figures in snap["cache"].items():
            yield from _flat(f"scs_cache_{level}", figures)
        ready = snap["migration_readiness"]
        yield GaugeMetricFamily(
            "scs_migration_should_migrate",
            "1 when the PostgreSQL migration criteria are met",
            value=1 if ready["should_migrate"] else 0,
        )


def _flat(prefix: str, figures: dict[str, Any]) -> Iterator[Metric]:
    for name, value in figures.items():
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int | float):
            yield GaugeMetricFamily(f"{prefix}_{name}", f"{prefix} {name}", value=value)


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key")


async def metrics_endpoint(app: Services, request: Request) -> Response:
    if not app.settings.metrics_public:
        try:
            key = await app.auth.keys.verify(_presented_key(request))
        except AuthError:
            return error_response(AuthError("Send the admin API key."))
        if Permission.ADMIN not in key.permissions:
            return error_response(PermissionDenied("Needs an admin key."))
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(await app.metrics.snapshot()))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
