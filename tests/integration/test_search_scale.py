"""Search stays the same and stays bounded: answers equal to the golden snapshot taken before
the scoring internals were optimised; the candidate stage reads the index and returns a
bounded number of candidates as the session grows from 1,000 to 10,000 generated messages.
No timings: cost is shown by counts and query plans (figures live in bench/search.py)."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared_context.benchmark.search_phase import bulk_insert
from shared_context.benchmark.search_workload import messages, query_mix
from shared_context.bootstrap import build_search, open_services
from shared_context.config import Settings
from shared_context.domain.validation import dumps
from shared_context.services.container import Services
from shared_context.storage.search import SearchRequest
from shared_context.storage.sqlite.search import explain_candidates
from tests.search_snapshot import ALICE, GOLDEN, snapshot


async def test_answers_equal_the_golden_snapshot(services: Services) -> None:
    golden = json.loads(GOLDEN.read_text())
    answers = json.loads(json.dumps(await snapshot(services)))
    differing = [k for k in golden if answers.get(k) != golden[k]]
    assert answers.keys() == golden.keys()
    assert differing == []


def _bulk(sid: str, batch: list[tuple[str, dict[str, Any]]]) -> Callable[[Any], None]:
    now = time.time()
    return bulk_insert([(sid, "bob", "claude", c, "public", dumps(m), now) for c, m in batch])


@pytest.mark.sqlite_only
async def test_candidates_stay_bounded_and_indexed_as_the_session_grows(
    services: Services,
) -> None:
    corpus = list(messages(10_000))
    queries = [q.text for q in query_mix(corpus[:1_000], 80)]
    sid = (await services.sessions.create(ALICE, "scale", None)).session_id
    stage = build_search(services.store)
    limit = 500
    counts: dict[int, list[int]] = {}
    considered: dict[int, list[int]] = {}
    have = 0
    for size in (1_000, 10_000):
        await services.store.write(_bulk(sid, corpus[have:size]))  # type: ignore[attr-defined]
        have = size
        counts[size] = [
            len(await stage.candidates(ALICE, SearchRequest(sid, q, candidate_limit=limit)))
            for q in queries
        ]
        considered[size] = [
            (await services.search.search_context(ALICE, sid, q)).considered for q in queries
        ]
        plan = await services.store.read(  # type: ignore[attr-defined]
            lambda conn: explain_candidates(conn, ALICE, sid)
        )
        assert any("messages_fts VIRTUAL TABLE" in step for step in plan), plan
    for size in (1_000, 10_000):
        assert max(counts[size]) <= limit
        assert max(considered[size]) <= limit + 1_000  # candidates + the fallback window
    # Ten times the messages, not ten times the candidates: the rare-piece budget bounds them.
    assert statistics.fmean(counts[10_000]) < 2 * statistics.fmean(counts[1_000])
    assert sum(counts[10_000]) > 0


CORPUS_HALVES = 120


async def candidate_ids(stage: Any, sid: str, query: str) -> list[tuple[int, bool]]:
    found = await stage.candidates(ALICE, SearchRequest(sid, query))
    return sorted((c.id, c.exact) for c in found)


async def post(app: Services, sid: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    for content, meta in rows:
        await app.messages.add(ALICE, sid, content, "public", meta or None)


async def test_a_warmed_candidate_stage_finds_what_a_fresh_one_finds(services: Services) -> None:
    """The memory of common pieces stays right as messages are added (counts only grow), on
    both backends: a stage that has served searches returns the same candidates as a new one."""
    corpus = list(messages(2 * CORPUS_HALVES))
    queries = [q.text for q in query_mix(corpus, 40)]
    sid = (await services.sessions.create(ALICE, "warm", None)).session_id
    warmed = build_search(services.store)
    await post(services, sid, corpus[:CORPUS_HALVES])
    for query in queries:
        await candidate_ids(warmed, sid, query)
    await post(services, sid, corpus[CORPUS_HALVES:])
    fresh = build_search(services.store)
    found = 0
    for query in queries:
        expected = await candidate_ids(fresh, sid, query)
        assert await candidate_ids(warmed, sid, query) == expected, query
        found += len(expected)
    assert found > 0


@pytest.mark.sqlite_only
async def test_remembered_counts_follow_writes_of_another_process(
    services: Services, settings: Settings
) -> None:
    """Piece counts remembered at one index state are not used once another process (here a
    second, independent set of services on the same database) has added messages: the warmed
    stage still returns what a new one does."""
    corpus = list(messages(2 * CORPUS_HALVES))
    queries = [q.text for q in query_mix(corpus, 40)]
    sid = (await services.sessions.create(ALICE, "counts", None)).session_id
    warmed = build_search(services.store)
    await post(services, sid, corpus[:CORPUS_HALVES])
    before = [await candidate_ids(warmed, sid, query) for query in queries]
    assert before == [await candidate_ids(warmed, sid, q) for q in queries]  # the same state
    async with open_services(settings) as other:
        await post(other, sid, corpus[CORPUS_HALVES:])
    fresh = build_search(services.store)
    changed = 0
    for query, earlier in zip(queries, before, strict=True):
        expected = await candidate_ids(fresh, sid, query)
        assert await candidate_ids(warmed, sid, query) == expected, query
        changed += expected != earlier
    assert changed > 0  # the added messages did change the candidates
