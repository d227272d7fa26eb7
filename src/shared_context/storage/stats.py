"""What every storage adapter measures, as Prometheus instruments (not yet in any registry:
the server registers them in its own), read back by the metrics service. Measured, never
assumed. Also the tracing hooks of storage: a span per read and per write."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric

from shared_context.telemetry import readings
from shared_context.telemetry.readings import BATCH_SIZE_BUCKETS, DURATION_BUCKETS
from shared_context.telemetry.tracing import Tracing

SLOW_QUERY_SECONDS = 0.1


class StorageStats:
    def __init__(self) -> None:
        self.tracing = Tracing()  # replaced by the server's when tracing is configured
        self.reads = Counter("scs_db_reads", "Database read operations.", registry=None)
        self.read_duration = Histogram(
            "scs_db_read_duration_seconds",
            "Time of one read operation, including the wait for a pooled connection.",
            buckets=DURATION_BUCKETS,
            registry=None,
        )
        self.writes = Counter("scs_db_writes", "Database write operations.", registry=None)
        self.write_errors = Counter(
            "scs_db_write_errors", "Write operations that failed.", registry=None
        )
        self.batches = Counter(
            "scs_db_write_batches", "Write transactions committed or rolled back.", registry=None
        )
        self.batch_size = Histogram(
            "scs_db_write_batch_size",
            "Write operations per transaction (group commit).",
            buckets=BATCH_SIZE_BUCKETS,
            registry=None,
        )
        self.batch_duration = Histogram(
            "scs_db_write_batch_duration_seconds",
            "Time of one write transaction, BEGIN to COMMIT.",
            buckets=DURATION_BUCKETS,
            registry=None,
        )
        self.write_duration = Histogram(
            "scs_db_write_duration_seconds",
            "Time from a write being queued to its commit (what the caller waits).",
            buckets=DURATION_BUCKETS,
            registry=None,
        )
        self.slow_queries = Counter(
            "scs_db_slow_operations",
            f"Reads and write transactions slower than {SLOW_QUERY_SECONDS} s.",
            registry=None,
        )
        self.queue_depth = Gauge(
            "scs_db_writer_queue_depth", "Writes queued or in flight now.", registry=None
        )
        self.queue_depth_max = Gauge(
            "scs_db_writer_queue_max_depth",
            "Highest number of writes queued or in flight at once since start.",
            registry=None,
        )
        self._depth = 0
        self._max_depth = 0
        self._max_batch = 0
        self._lock = threading.Lock()

    # --- recording --------------------------------------------------------------------------
    def record_read(self, seconds: float) -> None:
        self.reads.inc()
        self.read_duration.observe(seconds)
        if seconds > SLOW_QUERY_SECONDS:
            self.slow_queries.inc()

    def record_batch(self, size: int, errors: int, seconds: float) -> None:
        self.batches.inc()
        self.writes.inc(size)
        if errors:
            self.write_errors.inc(errors)
        self.batch_size.observe(size)
        self.batch_duration.observe(seconds)
        if seconds > SLOW_QUERY_SECONDS:
            self.slow_queries.inc()
        with self._lock:
            self._max_batch = max(self._max_batch, size)

    def enqueued(self) -> None:
        with self._lock:
            self._depth += 1
            self._max_depth = max(self._max_depth, self._depth)
            self.queue_depth.set(self._depth)
            self.queue_depth_max.set(self._max_depth)

    def record_write_latency(self, seconds: float) -> None:
        with self._lock:
            self._depth -= 1
            self.queue_depth.set(self._depth)
        self.write_duration.observe(seconds)

    # --- tracing ----------------------------------------------------------------------------
    def span(self, name: str, **attributes: str | int) -> contextlib.AbstractContextManager[Any]:
        return self.tracing.child_span(name, attributes or None)

    # --- reading ----------------------------------------------------------------------------
    def collectors(self) -> list[Any]:
        return [
            self.reads,
            self.read_duration,
            self.writes,
            self.write_errors,
            self.batches,
            self.batch_size,
            self.batch_duration,
            self.write_duration,
            self.slow_queries,
            self.queue_depth,
            self.queue_depth_max,
        ]

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors():
            yield from collector.collect()

    def snapshot(self) -> dict[str, Any]:
        reads = readings.distributions(self.read_duration.collect())[""]
        batches = readings.distributions(self.batch_duration.collect())[""]
        sizes = readings.distributions(self.batch_size.collect())[""]
        writes = readings.distributions(self.write_duration.collect())[""]
        with self._lock:
            depth, max_depth, max_batch = self._depth, self._max_depth, self._max_batch
        return {
            "queries": int(reads.count + readings.value(self.writes.collect())),
            "reads": int(reads.count),
            "writes": int(readings.value(self.writes.collect())),
            "write_errors": int(readings.value(self.write_errors.collect())),
            "write_batches": int(batches.count),
            "avg_batch_size": round(sizes.mean(), 3),
            "max_batch_size": max_batch,
            "avg_read_ms": round(1000 * reads.mean(), 3),
            "avg_batch_ms": round(1000 * batches.mean(), 3),
            "slow_queries": int(readings.value(self.slow_queries.collect())),
            "writer_queue_depth": depth,
            "max_writer_queue_depth": max_depth,
            "write_p95_ms": round(1000 * writes.quantile(0.95), 3),
        }
