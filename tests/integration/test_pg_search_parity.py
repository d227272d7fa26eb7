"""Search on PostgreSQL (pg_trgm) finds the same candidates and answers the same results as on
SQLite (FTS5 trigram) for the relevance corpus and for awkward queries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from shared_context.benchmark.search_corpus import CORPUS, QUERIES
from shared_context.bootstrap import build_search, open_services
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.services.container import Services
from shared_context.storage.search import SearchRequest, SearchScope
from tests.conftest import make_settings
from tests.pgtools import PG_URL, fresh_schema, requires_pg

pytestmark = [requires_pg, pytest.mark.postgres]

ALICE = Principal("alice", "claude", AGENT_CEILING)
AWKWARD = ['"quoted" OR -minus', "100%_done\\", "col:umn NEAR(x)", "ab", "ÉCOLE école", "*"]


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[list[tuple[Services, str]]]:
    async with fresh_schema() as schema, AsyncExitStack() as stack:
        out = []
        for name, extra in (
            ("sqlite", {}),
            ("pg", {"database_url": PG_URL, "database_schema": schema}),
        ):
            app = await stack.enter_async_context(
                open_services(make_settings(tmp_path / name, **extra))
            )
            sid = (await app.sessions.create(ALICE, "corpus", None)).session_id
            for content, metadata in CORPUS.values():
                await app.messages.add(ALICE, sid, content, metadata=metadata or None)
            await app.messages.add(ALICE, sid, "mine only: colaboration notes", "private")
            out.append((app, sid))
        yield out


async def test_candidates_and_results_match_sqlite(both: list[tuple[Services, str]]) -> None:
    answers: list[list[Any]] = []
    for app, sid in both:
        stage = build_search(app.store)
        rows: list[Any] = []
        for query in [*QUERIES, *AWKWARD]:
            for metadata in (True, False):
                request = SearchRequest(sid, query, SearchScope.ALL, metadata, 50)
                found = await stage.candidates(ALICE, request)
                rows.append(sorted((c.id, c.exact) for c in found))
            body = await app.search.search_context(ALICE, sid, query, fuzzy_threshold=50, limit=5)
            rows.append([(r.message.id, r.score) for r in body.results])
        recent = await stage.recent_visible(ALICE, sid, scope=SearchScope.PRIVATE, window=5)
        rows.append([c.id for c in recent])
        answers.append(rows)
    assert answers[0] == answers[1]
