"""The core benchmark runs end to end with tiny counts (figures are not checked)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import core


async def test_core_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "core.json"
    report = await core.run(core.Config(samples=3, writes=64, http=False, out=out))
    assert set(report["in_process"]) == set(core.TARGETS_MS)
    assert set(report["writer"]) == {"1", "8", "64"}
    assert all(row["writes"] > 0 for row in report["writer"].values())
    assert json.loads(out.read_text())["samples"] == 3
    text = core.table(report)
    assert "add_message" in text and "writes/s" in text


def test_percentile_edges() -> None:
    assert core.percentile([], 50) == 0.0
    assert core.percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert core.percentile([1.0, 2.0, 3.0], 100) == 3.0
