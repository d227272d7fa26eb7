"""The search phase of ``scs bench``: what search costs as a session grows, from inside and
from outside, on text and queries the index was not tuned for.

One session holds the hand-labelled relevance corpus (``search_corpus``, its oldest messages)
and then the generated workload (``search_workload``: prose, code, logs, stack traces, ticket
ids, JSON metadata), seeded in bulk through the storage writer so the index triggers run as
for real posts. Every call asks a new query of the generated mix (typos, phrases, reordered
words, identifiers, no-match), drawn from the messages, never from the index. Per size:

- in-process: wall and CPU milliseconds per ``search_context`` service call (CPU of the whole
  process, so the database threads count);
- precision@3 of the relevance queries, recall@10 of each generated query's source message;
- at the first size, over real Streamable HTTP: a ``scs serve`` process on the same data
  directory driven by the official MCP SDK client, ``search_context`` alternating with an
  MCP ``ping`` (on a legacy connection: protocol 2026-07-28 has no ping), their p50 ratio, and
  the server's CPU per search call.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from shared_context.benchmark.harness import BENCH_ADMIN_KEY, BENCH_AGENT_KEY, ServerProcess
from shared_context.benchmark.report import pct
from shared_context.benchmark.search_corpus import CORPUS, QUERIES, precision_at_3
from shared_context.benchmark.search_workload import SEED, Query, messages, query_mix
from shared_context.benchmark.workload import Agent
from shared_context.bootstrap import open_services
from shared_context.config import Settings
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.domain.validation import dumps
from shared_context.services.container import Services

T = TypeVar("T")
SEARCHER = Principal("alice", "claude", AGENT_CEILING)
SENDERS = [("alice", "claude"), ("bob", "claude"), ("gina", "gemini"), ("carl", "codex")]
# Before issue 15's work (bench/results/search-workload-2026-12-01-before.json): the figures
# relevance must not fall below, on the same corpus and sizes.
PRECISION_BEFORE = {1000: 0.857, 10_000: 0.786, 100_000: 0.786}


def settings_for(data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        api_key=SecretStr(BENCH_AGENT_KEY),
        admin_api_key=SecretStr(BENCH_ADMIN_KEY),
    )


async def grow(app: Services, sid: str, corpus: Iterable[tuple[str, dict[str, Any]]]) -> float:
    """Append messages in bulk writes of 10,000 (85 % public, 10 % private, 5 % agent_only, four
    senders); returns the seconds taken."""
    rng = random.Random(17)
    started = time.perf_counter()
    batch: list[tuple[Any, ...]] = []
    for content, meta in corpus:
        sender, kind = rng.choice(SENDERS)
        roll = rng.random()
        visibility = "public" if roll < 0.85 else "private" if roll < 0.95 else "agent_only"
        batch.append((sid, sender, kind, content, visibility, dumps(meta), time.time()))
        if len(batch) == 10_000:
            await app.store.write(bulk_insert(batch))  # type: ignore[attr-defined]
            batch = []
    if batch:
        await app.store.write(bulk_insert(batch))  # type: ignore[attr-defined]
    return time.perf_counter() - started


def bulk_insert(batch: list[tuple[Any, ...]]) -> Callable[[Any], None]:
    """A SQLite writer job inserting message rows (session_id, sender, sender_type, content,
    visibility, metadata JSON, created_at) with ``executemany``: the index triggers run."""

    def fn(conn: Any) -> None:
        conn.executemany(
            "INSERT INTO messages (session_id, sender, sender_type, content, visibility, "
            "metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            batch,
        )

    return fn


def summary(wall_ms: list[float], cpu_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(pct(wall_ms, 50), 3),
        "p95_ms": round(pct(wall_ms, 95), 3),
        "cpu_mean_ms": round(statistics.fmean(cpu_ms), 3),
        "cpu_p50_ms": round(pct(cpu_ms, 50), 3),
        "cpu_p95_ms": round(pct(cpu_ms, 95), 3),
    }


async def timed(call: Callable[[int], Awaitable[Any]], calls: int) -> dict[str, float]:
    wall, cpu = [], []
    for i in range(calls):
        started, started_cpu = time.perf_counter(), time.process_time()
        await call(i)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return summary(wall, cpu)


async def in_process(app: Services, sid: str, queries: list[str], calls: int) -> dict[str, Any]:
    for query in queries[-5:]:  # warm the read connections (queries not used below)
        await app.search.search_context(SEARCHER, sid, query)
    usable = len(queries) - 5
    figures = await timed(
        lambda i: app.search.search_context(SEARCHER, sid, queries[i % usable]), calls
    )
    return {**figures, "calls": calls, "load_average_1m": round(os.getloadavg()[0], 2)}


async def relevance(app: Services, sid: str, keys: dict[int, str]) -> float:
    """Mean precision@3 of the hand-labelled queries."""
    scores = []
    for query, relevant in QUERIES.items():
        out = await app.search.search_context(SEARCHER, sid, query, limit=3)
        ranked = [keys.get(r.message.id, "?") for r in out.results]
        scores.append(precision_at_3(ranked, relevant))
    return statistics.fmean(scores)


async def source_recall(app: Services, sid: str, queries: list[Query], first_id: int) -> float:
    """Share of generated queries (with a source) whose source message is in the top 10."""
    found = []
    for query in queries:
        if query.source < 0:
            continue
        out = await app.search.search_context(SEARCHER, sid, query.text, limit=10)
        ids = {r.message.id for r in out.results}
        found.append(first_id + query.source in ids)
    return statistics.fmean(found) if found else float("nan")


async def over_http(
    data_dir: Path, sid: str, queries: list[str], calls: int, first_id: int = 0
) -> dict[str, Any]:
    """search_context and ping alternating against a real server on the same data. Then, in a
    loop of its own (so the search figures keep their call sequence), ``get_messages`` pages of
    ten generated messages (a different page each time, ``since_id`` walking the workload)
    alternating with ping: ten typed messages of the same corpus without a search. A page is
    smaller than a search result (no score, preview or match field), so it shows a part of what
    any result costs, not a floor. The client's own check of each search result against the
    tool's output schema (what the SDK does on every call, with ``jsonschema``) is timed
    afterwards."""
    with ServerProcess(data_dir=data_dir) as server:
        searcher = Agent(server.url, SEARCHER.agent_id, SEARCHER.agent_type)
        pinger = Agent(server.url, "pinger", "bench", mode="legacy")
        await searcher.connect()
        await pinger.connect()
        try:
            search_ms, ping_ms, inside_ms, cpu = [], [], [], 0.0
            bodies: list[dict[str, Any]] = []
            for i in range(calls + 5):
                ping, _ = await clocked(pinger.ping())
                cpu_before = server.cpu_seconds()
                took, body = await clocked(
                    searcher.call("search_context", session_id=sid, query=queries[i])
                )
                if i >= 5:  # the first calls warm the server
                    search_ms.append(took)
                    ping_ms.append(ping)
                    inside_ms.append(float(body["search_time_ms"]))
                    bodies.append(body)
                    cpu += server.cpu_seconds() - cpu_before
            page_ms, page_ping_ms, page_bytes = [], [], []
            for i in range(calls + 5):
                ping, _ = await clocked(pinger.ping())
                paged, page = await clocked(
                    searcher.call(
                        "get_messages", session_id=sid, limit=10, since_id=first_id + 37 * i % 900
                    )
                )
                if i >= 5:
                    page_ms.append(paged)
                    page_ping_ms.append(ping)
                    page_bytes.append(len(json.dumps(page)))
            rss = server.rss_bytes()
            schema_ms = await schema_check_ms(searcher, "search_context", bodies)
        finally:  # connections nest (anyio cancel scopes): the last opened closes first
            await pinger.close()
            await searcher.close()
    ping_p50 = pct(ping_ms, 50)
    return {
        "p50_ms": round(pct(search_ms, 50), 3),
        "p95_ms": round(pct(search_ms, 95), 3),
        "ping_p50_ms": round(ping_p50, 3),
        "ping_p95_ms": round(pct(ping_ms, 95), 3),
        "p50_ratio_to_ping": round(pct(search_ms, 50) / ping_p50, 2),
        # Ten generated messages of the same session (get_messages), no search.
        "page10_p50_ms": round(pct(page_ms, 50), 3),
        "page10_p50_ratio_to_ping": round(pct(page_ms, 50) / pct(page_ping_ms, 50), 2),
        "page10_mean_bytes": round(statistics.fmean(page_bytes)) if page_bytes else 0,
        "search_result_mean_bytes": round(statistics.fmean(len(json.dumps(b)) for b in bodies))
        if bodies
        else 0,
        # The server's own time in search_context (the result's search_time_ms).
        "server_search_p50_ms": round(pct(inside_ms, 50), 3),
        # The client checking each search result against the published output schema.
        "client_schema_check_p50_ms": round(schema_ms, 3),
        # Server CPU while the search calls ran (clock ticks: a coarse figure per call).
        "server_cpu_ms_per_search": round(cpu / calls * 1000, 3),
        "server_rss_mb": round(rss / 2**20, 1),
        "calls": calls,
        "client": "official MCP SDK mcp.Client over Streamable HTTP",
    }


async def clocked(call: Awaitable[T]) -> tuple[float, T]:
    """Milliseconds the call took, and its result."""
    started = time.perf_counter()
    result = await call
    return (time.perf_counter() - started) * 1000, result


async def schema_check_ms(agent: Agent, tool: str, bodies: list[dict[str, Any]]) -> float:
    """p50 milliseconds of validating each body against the tool's listed output schema,
    compiled once, as the SDK client does (``jsonschema``; the schemas hold no ``$ref``)."""
    from jsonschema.validators import validator_for

    assert agent.client is not None
    listed = await agent.client.list_tools()
    schema = next(t.output_schema for t in listed.tools if t.name == tool)
    if not schema or not bodies:
        return 0.0
    validator = validator_for(schema)(schema)
    took = []
    for body in bodies:
        started = time.perf_counter()
        errors = list(validator.iter_errors(body))
        took.append((time.perf_counter() - started) * 1000)
        assert not errors, errors[0]
    return pct(took, 50)


async def search_phase(
    sizes: tuple[int, ...] = (1000, 100_000),
    calls: int = 200,
    http_calls: int = 200,
    *,
    http_at: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """The figures per size; over HTTP at the sizes in ``http_at`` (default: the first)."""
    over = {min(sizes)} if http_at is None else set(http_at)
    workload = list(messages(max(sizes)))
    mix = query_mix(workload[: min(sizes)], max(calls, http_calls) + 10)
    queries = [q.text for q in mix]
    report: dict[str, Any] = {
        "corpus": f"search_workload (seed {SEED}) after search_corpus",
        "queries": len(queries),
        "query_kinds": dict(Counter(q.kind for q in mix)),
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="scs-bench-search-") as tmp:
        data_dir = Path(tmp)
        have = 0
        sid = ""
        keys: dict[int, str] = {}
        first_id = 0
        for size in sorted(sizes):
            async with open_services(settings_for(data_dir)) as app:
                if not sid:
                    sid = (await app.sessions.create(SEARCHER, "search bench", None)).session_id
                    for key, (content, meta) in CORPUS.items():
                        added = await app.messages.add(SEARCHER, sid, content, "public", meta)
                        keys[added.message_id] = key
                    first_id = max(keys) + 1
                seeded = await grow(app, sid, workload[have:size])
                have = size
                row: dict[str, Any] = {"seed_seconds": round(seeded, 1)}
                row["in_process"] = await in_process(app, sid, queries, calls)
                row["precision_at_3"] = round(await relevance(app, sid, keys), 3)
                row["source_recall_at_10"] = round(
                    await source_recall(app, sid, mix[:100], first_id), 3
                )
            if size in over:  # the services are closed: the server is the only process there
                row["http"] = await over_http(data_dir, sid, queries, http_calls, first_id)
            report["sizes"][str(size)] = row
    report["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    return report


def search_goals(out: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 15's search goals with what was measured."""
    rows: list[dict[str, Any]] = []
    by_size = {int(k): v for k, v in out["sizes"].items()}
    first = min(by_size)
    http = by_size[first].get("http")
    if http is not None:
        rows.append(
            {
                "goal": f"search_context HTTP p50 <= 2x ping at {first:,} messages",
                "measured": f"{http['p50_ms']:.2f} ms vs ping {http['ping_p50_ms']:.2f} ms "
                f"({http['p50_ratio_to_ping']}x)",
                "met": http["p50_ratio_to_ping"] <= 2.0,
            }
        )
    for size, limit in ((1000, 10.0), (100_000, 20.0)):
        if size in by_size:
            ip = by_size[size]["in_process"]
            rows.append(
                {
                    "goal": f"search in-process p95 <= {limit:g} ms at {size:,} messages",
                    "measured": f"{ip['p95_ms']:.2f} ms (CPU p95 {ip['cpu_p95_ms']:.2f} ms)",
                    "met": ip["p95_ms"] <= limit,
                }
            )
    for size, row in sorted(by_size.items()):
        before = PRECISION_BEFORE.get(size)
        if before is not None:
            rows.append(
                {
                    "goal": f"precision@3 at {size:,} messages >= {before} (before issue 15)",
                    "measured": f"{row['precision_at_3']:.3f}",
                    "met": row["precision_at_3"] >= before,
                }
            )
    return rows


def render_search(out: dict[str, Any]) -> str:
    lines = ["\nSearch (generated workload, a new query on every call)"]
    header = "messages | in-process p50/p95 ms | CPU p50/p95 ms | P@3 | recall@10 | HTTP"
    lines.append(header)
    for size, row in out["sizes"].items():
        ip = row["in_process"]
        http = row.get("http")
        over = (
            f"p50 {http['p50_ms']} ms, ping {http['ping_p50_ms']} ms "
            f"({http['p50_ratio_to_ping']}x), server CPU {http['server_cpu_ms_per_search']} ms"
            if http
            else "-"
        )
        if http and "page10_p50_ms" in http:
            over += (
                f"; in the server's search {http['server_search_p50_ms']} ms, client schema "
                f"check {http['client_schema_check_p50_ms']} ms; a 10-message page (no search, "
                f"{http['page10_mean_bytes']} vs {http['search_result_mean_bytes']} bytes) "
                f"{http['page10_p50_ms']} ms "
                f"({http['page10_p50_ratio_to_ping']}x)"
            )
        lines.append(
            f"{int(size):>8,} | {ip['p50_ms']} / {ip['p95_ms']} | {ip['cpu_p50_ms']} / "
            f"{ip['cpu_p95_ms']} | {row['precision_at_3']} | {row['source_recall_at_10']} | {over}"
        )
    return "\n".join(lines)
