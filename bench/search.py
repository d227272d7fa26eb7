"""Search benchmark: cost of search_context as one session grows, relevance, scorer study.

    uv run python -m bench.search [--sizes 1000,10000,100000] [--calls 200] [--http-calls 200]

The measurements are those of the search phase of ``scs bench``
(``shared_context.benchmark.search_phase``: the relevance corpus and the generated workload in
one session, a new query of the generated mix on every call, in-process wall and CPU per call,
precision@3, recall@10, and over real Streamable HTTP with the official MCP SDK client,
search alternating with ping), here at every size and over HTTP at every size; then the scorer
study (precision@3 of alternative RapidFuzz scorers, scored exhaustively) on the relevance
corpus among 1,000 workload messages. Prints a table and writes ``bench/out/search.json``.
Figures only: no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from shared_context.benchmark.search_corpus import CORPUS, QUERIES, precision_at_3
from shared_context.benchmark.search_phase import render_search, search_goals, search_phase
from shared_context.benchmark.search_workload import messages
from shared_context.services.search_scoring import score_text

OUT = Path(__file__).resolve().parent / "out" / "search.json"


def scorer_study(texts: dict[str, str]) -> dict[str, float]:
    """Precision@3 of candidate scorers, scoring every text exhaustively (no index)."""
    candidates: dict[str, Callable[[str, str], float]] = {
        "WRatio": fuzz.WRatio,
        "QRatio": fuzz.QRatio,
        "partial_ratio": fuzz.partial_ratio,
        "token_set_ratio": fuzz.token_set_ratio,
        "max(WRatio, token_set, partial)": lambda q, t: max(
            fuzz.WRatio(q, t), fuzz.token_set_ratio(q, t), fuzz.partial_ratio(q, t)
        ),
        "shipped: max(partial|ratio, token_set)": score_text,
    }
    lowered = {k: v.lower() for k, v in texts.items()}
    study = {}
    for name, scorer in candidates.items():
        scores = []
        for query, relevant in QUERIES.items():
            q = query.lower()
            ranked = sorted(lowered, key=lambda k: -scorer(q, lowered[k]))
            scores.append(precision_at_3(ranked, relevant))
        study[name] = round(statistics.fmean(scores), 3)
    return study


async def run(sizes: list[int], calls: int, http_calls: int) -> dict[str, Any]:
    report = await search_phase(tuple(sizes), calls, http_calls, http_at=tuple(sizes))
    workload = list(messages(1000))
    texts = {k: c + " " + " ".join(str(v) for v in m.values()) for k, (c, m) in CORPUS.items()}
    texts.update({f"w{i}": text for i, (text, _) in enumerate(workload)})
    report["scorer_study_precision_at_3"] = scorer_study(texts)
    first, last = report["sizes"][str(sizes[0])], report["sizes"][str(sizes[-1])]
    report["growth_ratio_p95"] = {
        "in_process_wall": round(last["in_process"]["p95_ms"] / first["in_process"]["p95_ms"], 2),
        "in_process_cpu": round(
            last["in_process"]["cpu_p95_ms"] / first["in_process"]["cpu_p95_ms"], 2
        ),
        "http": round(last["http"]["p95_ms"] / first["http"]["p95_ms"], 2),
        "of": f"{sizes[-1]}/{sizes[0]}",
    }
    report["goals"] = search_goals(report)
    report["machine"] = {"cpus": os.cpu_count(), "load_average_1m_end": os.getloadavg()[0]}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--http-calls", type=int, default=200)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    report = asyncio.run(run(sizes, args.calls, args.http_calls))
    print(render_search(report))
    for goal in report["goals"]:
        print(f"  {'met' if goal['met'] else 'NOT met'}: {goal['goal']} ({goal['measured']})")
    print("scorer study (precision@3, exhaustive):")
    for name, value in report["scorer_study_precision_at_3"].items():
        print(f"  {value:.3f}  {name}")
    print(f"growth ratio of p95 {report['growth_ratio_p95']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
