"""Fewer candidates for a cheaper search: what it would cost in relevance.

    uv run python -m bench.search_candidates [--sizes 1000,100000] [--queries 300]

A search scores every candidate the index yields (about 150 per query at 1,000 messages), and
scoring is most of its cost. Two ways to score fewer, each measured against the shipped
search on the corpus and query mix of ``scs bench`` (``search_phase``):

- a smaller rare-piece *budget* (``SqliteSearch(budget=...)``, shipped 400): the OR of rare
  pieces reads fewer postings;
- a *cut*: of the index's candidates, only the K that hold the most of the query's trigrams
  (verbatim holders of every term first, then newest) are scored.

Per variant and size: precision@3 of the relevance queries, recall@10 of each generated
query's source message, candidates considered, CPU per search (in-process, every variant on
the same queries in turn), and the share of result pages identical to the shipped search's.
A cut's CPU includes the study's own ranking of the candidates in Python (a trigram scan of
each), so it shows what scoring fewer saves only as an upper bound of the cost.
Prints a table and writes ``bench/out/search-candidates.json``. Figures only: no pass/fail.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared_context import heap
from shared_context.benchmark.report import table
from shared_context.benchmark.search_corpus import CORPUS, QUERIES, precision_at_3
from shared_context.benchmark.search_phase import SEARCHER, grow, settings_for
from shared_context.benchmark.search_workload import messages, query_mix
from shared_context.bootstrap import open_services
from shared_context.domain.models import Principal
from shared_context.services.container import Services
from shared_context.services.search import SearchService
from shared_context.services.search_text import metadata_text
from shared_context.storage.search import Candidate, SearchRequest, SearchScope, SearchStore
from shared_context.storage.search_terms import query_terms, query_trigrams
from shared_context.storage.sqlite.search import SqliteSearch
from shared_context.storage.sqlite.store import SqliteStore

OUT = Path(__file__).resolve().parent / "out" / "search-candidates.json"
BUDGETS = (400, 200, 100)
CUTS = (80, 50, 30)


@dataclass
class Cut:
    """A ``SearchStore`` keeping the ``keep`` candidates of ``inner`` holding the most query
    trigrams (the recent-window fallback is the inner store's, unchanged)."""

    inner: SearchStore
    keep: int

    async def candidates(self, viewer: Principal, request: SearchRequest) -> list[Candidate]:
        found = await self.inner.candidates(viewer, request)
        if len(found) <= self.keep:
            return found
        grams = query_trigrams(query_terms(request.query))

        def held(c: Candidate) -> int:
            text = f"{c.content} {metadata_text(c.metadata_json)}".lower()
            return sum(gram in text for gram in grams)

        return sorted(found, key=lambda c: (not c.exact, -held(c), -c.id))[: self.keep]

    async def recent_visible(
        self, viewer: Principal, session_id: str, *, scope: SearchScope, window: int
    ) -> list[Candidate]:
        return await self.inner.recent_visible(viewer, session_id, scope=scope, window=window)


def variants(app: Services) -> dict[str, SearchService]:
    store = app.store
    assert isinstance(store, SqliteStore), "the study runs on the embedded SQLite backend"
    shipped = SqliteSearch(store)

    def service(search: SearchStore) -> SearchService:
        return SearchService(search, app.sessions, app.messages)

    out = {
        f"budget {b}" + (" (shipped)" if b == 400 else ""): service(SqliteSearch(store, budget=b))
        for b in BUDGETS
    }
    out.update({f"cut to {k}": service(Cut(shipped, k)) for k in CUTS})
    return out


async def measure(size: int, queries: int) -> list[dict[str, Any]]:
    workload = list(messages(size))
    mix = query_mix(workload[: min(size, 1000)], queries)
    with tempfile.TemporaryDirectory(prefix="scs-bench-cands-") as tmp:
        async with open_services(settings_for(Path(tmp))) as app:
            sid = (await app.sessions.create(SEARCHER, "candidates study", None)).session_id
            keys: dict[int, str] = {}
            for key, (content, meta) in CORPUS.items():
                keys[
                    (await app.messages.add(SEARCHER, sid, content, "public", meta)).message_id
                ] = key
            first_id = max(keys) + 1
            await grow(app, sid, workload)
            services = variants(app)
            for query in mix[-5:]:  # warm every variant's connections and memories
                for svc in services.values():
                    await svc.search_context(SEARCHER, sid, query.text)
            cpu = dict.fromkeys(services, 0.0)
            considered = dict.fromkeys(services, 0)
            found: dict[str, list[bool]] = {name: [] for name in services}
            pages: dict[str, list[list[int]]] = {name: [] for name in services}
            names = list(services)
            for turn, query in enumerate(mix):
                # Every variant on the same query, the order rotating: the first to ask a
                # query reads its index pages from disk, so no variant is always first.
                for name in names[turn % len(names) :] + names[: turn % len(names)]:
                    svc = services[name]
                    started = time.process_time()
                    out = await svc.search_context(SEARCHER, sid, query.text)
                    cpu[name] += time.process_time() - started
                    considered[name] += out.considered
                    ids = [r.message.id for r in out.results]
                    pages[name].append(ids)
                    if query.source >= 0:
                        found[name].append(first_id + query.source in ids)
            reference = pages[next(iter(services))]
            rows = []
            for name, svc in services.items():
                precision = []
                for text, relevant in QUERIES.items():
                    top = await svc.search_context(SEARCHER, sid, text, limit=3)
                    ranked = [keys.get(r.message.id, "?") for r in top.results]
                    precision.append(precision_at_3(ranked, relevant))
                rows.append(
                    {
                        "size": size,
                        "variant": name,
                        "precision_at_3": round(statistics.fmean(precision), 3),
                        "recall_at_10": round(statistics.fmean(found[name]), 3),
                        "considered": round(considered[name] / len(mix), 1),
                        "cpu_ms_per_search": round(1000 * cpu[name] / len(mix), 3),
                        "same_page_as_shipped": round(
                            statistics.fmean(
                                a == b for a, b in zip(pages[name], reference, strict=True)
                            ),
                            3,
                        ),
                    }
                )
            return rows


async def run(sizes: list[int], queries: int) -> dict[str, Any]:
    rows = [row for size in sizes for row in await measure(size, queries)]
    return {"queries": queries, "rows": rows}


def render(report: dict[str, Any]) -> str:
    header = ["messages", "variant", "P@3", "recall@10", "considered", "CPU ms", "same page"]
    body = [
        [
            f"{r['size']:,}",
            r["variant"],
            f"{r['precision_at_3']:.3f}",
            f"{r['recall_at_10']:.3f}",
            r["considered"],
            r["cpu_ms_per_search"],
            f"{100 * r['same_page_as_shipped']:.0f} %",
        ]
        for r in report["rows"]
    ]
    return table(header, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    previous = heap.settle()
    try:
        report = heap.run(run([int(s) for s in args.sizes.split(",")], args.queries))
    finally:
        heap.unsettle(previous)
    print(render(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
