"""How the figures other components report (cache levels, coordination, maintenance jobs,
the event bridge, database totals) appear in Prometheus: counters for counts that only grow,
gauges for levels, names in base units, labels from small fixed sets."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

Figures = Mapping[str, Any]

# Coordination figures by name: (family, kind, help).
COORDINATION = {
    "active_agents": ("scs_active_agents", "gauge", "Agents seen within the presence window."),
    "live_locks": ("scs_locks_held", "gauge", "Session work locks held now (unexpired)."),
    "waiters": ("scs_waiters", "gauge", "wait_for_messages calls waiting now."),
    "subscriptions": ("scs_subscriptions", "gauge", "Open MCP resource subscriptions."),
    "presence_flushes": ("scs_presence_flushes", "counter", "Batched last-seen writes."),
    "expired_locks_purged": (
        "scs_expired_locks_purged",
        "counter",
        "Expired lock leases removed by the sweeper.",
    ),
}
CACHE_COUNTERS = {
    "hits": "Lookups answered from the cache.",
    "misses": "Lookups the cache could not answer.",
    "evictions": "Entries dropped to stay within the cache's bounds.",
    "expirations": "Entries dropped for age (TTL).",
}
CACHE_LEVELS = {"size": "scs_cache_entries", "max_entries": "scs_cache_max_entries"}
BRIDGE_COUNTERS = ("sent", "received", "dropped", "connects", "resyncs")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None


def coordination_families(figures: Figures) -> Iterator[Metric]:
    for name, raw in figures.items():
        number = _number(raw)
        if number is None:
            continue
        family, kind, text = COORDINATION.get(
            name, (f"scs_coordination_{name}", "gauge", f"Coordination figure {name}.")
        )
        if kind == "counter":
            yield CounterMetricFamily(family, text, value=number)
        else:
            yield GaugeMetricFamily(family, text, value=number)


def gauge_families(sections: Mapping[str, Figures]) -> Iterator[Metric]:
    """Levels registered by other components (``register_gauge``), e.g. the web dashboard's
    open streams: ``scs_<section>_<name>``."""
    for section, figures in sorted(sections.items()):
        for name, raw in figures.items():
            number = _number(raw)
            if number is not None:
                yield GaugeMetricFamily(
                    f"scs_{section}_{name}", f"{section}: {name.replace('_', ' ')}.", value=number
                )


def cache_families(levels: Mapping[str, Figures]) -> Iterator[Metric]:
    counters = {
        key: CounterMetricFamily(f"scs_cache_{key}", text, labels=["level"])
        for key, text in CACHE_COUNTERS.items()
    }
    gauges: dict[str, GaugeMetricFamily] = {}
    for level, figures in sorted(levels.items()):
        for key, raw in figures.items():
            number = _number(raw)
            if number is None or key == "hit_ratio":  # a ratio is computed in PromQL
                continue
            if key in counters:
                counters[key].add_metric([level], number)
                continue
            family = CACHE_LEVELS.get(key, f"scs_cache_{key}")
            gauge = gauges.setdefault(
                family, GaugeMetricFamily(family, f"Cache level figure {key}.", labels=["level"])
            )
            gauge.add_metric([level], number)
    yield from counters.values()
    yield from gauges.values()


def maintenance_families(jobs: Mapping[str, Figures]) -> Iterator[Metric]:
    runs = CounterMetricFamily("scs_maintenance_runs", "Background job runs.", labels=["job"])
    failures = CounterMetricFamily(
        "scs_maintenance_failures", "Background job runs that failed.", labels=["job"]
    )
    last = GaugeMetricFamily(
        "scs_maintenance_last_duration_seconds", "Duration of a job's last run.", labels=["job"]
    )
    for job, figures in sorted(jobs.items()):
        runs.add_metric([job], float(figures.get("runs", 0)))
        failures.add_metric([job], float(figures.get("failures", 0)))
        last.add_metric([job], float(figures.get("last_duration_ms", 0.0)) / 1000)
    yield from (runs, failures, last)


def bridge_families(figures: Figures) -> Iterator[Metric]:
    for key in BRIDGE_COUNTERS:
        if key in figures:
            yield CounterMetricFamily(
                f"scs_event_bridge_{key}",
                f"Cross-instance event bridge: {key}.",
                value=float(figures[key]),
            )
    if "pending" in figures:
        yield GaugeMetricFamily(
            "scs_event_bridge_pending", "Events waiting to be sent.", value=figures["pending"]
        )
    if "connected" in figures:
        yield GaugeMetricFamily(
            "scs_event_bridge_connected",
            "1 while the LISTEN connection is up.",
            value=float(figures["connected"]),
        )


def totals_families(totals: Figures, database: Figures) -> Iterator[Metric]:
    rows = GaugeMetricFamily("scs_database_rows", "Rows stored, by table.", labels=["table"])
    for table in ("sessions", "messages", "audit_events", "memory_entries"):
        if table in totals:
            rows.add_metric([table], float(totals[table]))
    yield rows
    if "writes_last_24h" in totals:
        yield GaugeMetricFamily(
            "scs_database_writes_last_24h",
            "Successful writes recorded in the audit log over the last 24 hours (all instances).",
            value=float(totals["writes_last_24h"]),
        )
    if "size_bytes" in database:
        yield GaugeMetricFamily(
            "scs_database_size_bytes", "Size of the database.", value=database["size_bytes"]
        )


def readiness_families(readiness: Figures) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "scs_migration_should_migrate",
        "1 when the PostgreSQL migration criteria are met (SQLite only).",
        value=1.0 if readiness.get("should_migrate") else 0.0,
    )
    triggered = GaugeMetricFamily(
        "scs_migration_criterion_triggered",
        "1 when one migration-readiness criterion is over its threshold.",
        labels=["criterion"],
    )
    for row in readiness.get("criteria", []):
        triggered.add_metric([row["name"]], 1.0 if row["triggered"] else 0.0)
    yield triggered


def cross_process_families(figures: Figures) -> Iterator[Metric]:
    """SQLite change feed between processes on one file: counts, and the last relay's lag."""
    for key, raw in figures.items():
        number = _number(raw)
        if key.endswith("_ms"):
            if key == "last_lag_ms" and number is not None:
                yield GaugeMetricFamily(
                    "scs_cross_process_last_lag_seconds",
                    "Age of the last change relayed from another process when it arrived.",
                    value=number / 1000,
                )
            continue
        if number is not None:
            yield CounterMetricFamily(
                f"scs_cross_process_{key}", f"Cross-process change feed: {key}.", value=number
            )


SECTION_FAMILIES: dict[str, Callable[[Any], Iterator[Metric]]] = {
    "cross_process": cross_process_families,
    "cache": cache_families,
    "maintenance": maintenance_families,
    "event_bridge": bridge_families,
}
