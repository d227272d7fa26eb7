"""Reading Prometheus instruments back (for the JSON metrics report), with the same
percentile rule PromQL's ``histogram_quantile`` applies, so the report and a dashboard built
on the histogram agree."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

# Tool calls and database operations: 0.5 ms to 10 s (the seed's targets lie in between).
DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 10_000)

LabelKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Distribution:
    """One labelled histogram series: cumulative bucket counts by upper bound."""

    buckets: tuple[tuple[float, float], ...]  # (le, cumulative count), ascending, ends at +Inf
    count: float
    total: float

    def quantile(self, q: float) -> float:
        """``histogram_quantile(q, …)`` for this series (q in 0..1); 0.0 when empty."""
        if self.count <= 0 or not self.buckets:
            return 0.0
        rank = q * self.count
        lower, below = 0.0, 0.0
        for upper, cumulative in self.buckets:
            if cumulative >= rank:
                if math.isinf(upper):
                    return lower  # PromQL: the highest finite bound
                inside = cumulative - below
                if inside <= 0:
                    return upper
                return lower + (upper - lower) * (rank - below) / inside
            lower, below = upper, cumulative
        return lower

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


def distributions(families: Iterable[Metric], label: str | None = None) -> dict[str, Distribution]:
    """Histogram series keyed by the value of ``label`` ("" for an unlabelled histogram)."""
    grouped: dict[str, dict[str, list[Sample]]] = {}
    for family in families:
        for sample in family.samples:
            key = sample.labels.get(label, "") if label else ""
            grouped.setdefault(key, {}).setdefault(sample.name.rsplit("_", 1)[-1], []).append(
                sample
            )
    out: dict[str, Distribution] = {}
    for key, parts in grouped.items():
        buckets = sorted((float(s.labels["le"]), float(s.value)) for s in parts.get("bucket", []))
        count = sum(float(s.value) for s in parts.get("count", []))
        total = sum(float(s.value) for s in parts.get("sum", []))
        out[key] = Distribution(tuple(buckets), count, total)
    return out


def totals(families: Iterable[Metric], label: str | None = None) -> dict[str, float]:
    """Counter (``_total`` samples) or gauge values keyed by ``label``'s value, summed over
    any other labels."""
    out: dict[str, float] = {}
    for family in families:
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            key = sample.labels.get(label, "") if label else ""
            out[key] = out.get(key, 0.0) + float(sample.value)
    return out


def value(families: Iterable[Metric]) -> float:
    return totals(families).get("", 0.0)
