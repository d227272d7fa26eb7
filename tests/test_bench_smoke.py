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


async def test_candidates_study_smoke() -> None:
    from bench import search_candidates

    report = await search_candidates.run([120], 12)
    variants = {row["variant"] for row in report["rows"]}
    assert "budget 400 (shipped)" in variants and "cut to 30" in variants
    shipped = next(r for r in report["rows"] if r["variant"].endswith("(shipped)"))
    assert shipped["same_page_as_shipped"] == 1.0
    assert all(0 <= r["recall_at_10"] <= 1 and r["considered"] > 0 for r in report["rows"])
    assert "same page" in search_candidates.render(report)


async def test_thinking_agents_pause_between_calls() -> None:
    from shared_context.benchmark.harness import ServerProcess
    from shared_context.benchmark.suite import concurrent
    from shared_context.benchmark.workload import MIX

    with ServerProcess() as server:
        paced = await concurrent(server, 3, 3, MIX, seed=5, think_seconds=0.01)
    assert paced["think_seconds"] == 0.01 and paced["agents"] == 3
    assert paced["success_rate"] == 1.0 and paced["calls"] >= 9  # some ops are two calls
