"""Counters every storage adapter keeps, read by the metrics service. Measured, never assumed."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

SLOW_QUERY_SECONDS = 0.1


@dataclass
class StorageStats:
    reads: int = 0
    read_seconds: float = 0.0
    writes: int = 0
    write_errors: int = 0
    write_seconds: float = 0.0
    batches: int = 0
    batch_sizes_total: int = 0
    batch_max_seen: int = 0
    slow_queries: int = 0
    queue_depth: int = 0
    max_queue_depth: int = 0
    recent_write_latencies: deque[float] = field(default_factory=lambda: deque(maxlen=2048))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_read(self, seconds: float) -> None:
        with self._lock:
            self.reads += 1
            self.read_seconds += seconds
            if seconds > SLOW_QUERY_SECONDS:
                self.slow_queries += 1

    def record_batch(self, size: int, errors: int, seconds: float) -> None:
        with self._lock:
            self.batches += 1
            self.writes += size
            self.write_errors += errors
            self.batch_sizes_total += size
            self.batch_max_seen = max(self.batch_max_seen, size)
            self.write_seconds += seconds
            if seconds > SLOW_QUERY_SECONDS:
                self.slow_queries += 1

    def enqueued(self) -> None:
        with self._lock:
            self.queue_depth += 1
            self.max_queue_depth = max(self.max_queue_depth, self.queue_depth)

    def record_write_latency(self, seconds: float) -> None:
        with self._lock:
            self.queue_depth -= 1
            self.recent_write_latencies.append(seconds)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "queries": self.reads + self.writes,
                "reads": self.reads,
                "writes": self.writes,
                "write_errors": self.write_errors,
                "write_batches": self.batches,
                "avg_batch_size": round(self.batch_sizes_total / self.batches, 3)
                if self.batches
                else 0.0,
                "max_batch_size": self.batch_max_seen,
                "avg_read_ms": round(1000 * self.read_seconds / self.reads, 3)
                if self.reads
                else 0.0,
                "avg_batch_ms": round(1000 * self.write_seconds / self.batches, 3)
                if self.batches
                else 0.0,
                "slow_queries": self.slow_queries,
                "writer_queue_depth": self.queue_depth,
                "max_writer_queue_depth": self.max_queue_depth,
                "recent_write_seconds": list(self.recent_write_latencies),
            }
