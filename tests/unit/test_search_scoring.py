"""The scoring helpers of services/search.py."""

from __future__ import annotations

import math

import pytest

from shared_context.domain.errors import InvalidInput
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.services.container import Services
from shared_context.services.search import check_threshold
from shared_context.services.search_scoring import (
    TermOverlap,
    preview,
    score_batch,
    score_text,
)
from shared_context.services.search_text import metadata_strings, metadata_text


def test_score_text_handles_typos_reordering_and_short_texts() -> None:
    assert score_text("colaboration", "great collaboration today") > 90
    assert score_text("schema database design", "the database schema design") == 100
    assert score_text("x", "") == 0
    assert score_text("a long query here", "long") < 60  # a short text is no full match
    long_query = " ".join(["word"] * 20)
    assert score_text(long_query, "word " * 30) == 100


def test_score_batch_agrees_with_score_text() -> None:
    texts = ["great collaboration today", "", "long", "the database schema design"]
    for query in ("colaboration", "schema database design", "a long query here"):
        batch = score_batch(query, texts, 0)
        single = [score_text(query, t) for t in texts]
        assert batch == pytest.approx(single), query


def test_metadata_values() -> None:
    meta = {"a": "x", "b": [1, "y", {"c": "z", "d": True}], "e": None}
    assert metadata_strings(meta) == ["x", "y", "z"]
    assert metadata_strings({"k": ["v"] * 500}, limit=3) == ["v", "v", "v"]
    assert metadata_text("{}") == ""
    assert metadata_text("not json") == ""
    assert metadata_text('{"t": "INC-1", "n": 2}') == "INC-1"


def test_preview_windows() -> None:
    assert preview("x", "short") == "short"
    text = "a" * 300 + " needle " + "b" * 300
    shown = preview("needle", text)
    assert "needle" in shown and len(shown) <= 200
    assert shown[0] == shown[-1] == "…"
    start = preview("aaaa", "aaaa" + "c" * 400)
    assert start.startswith("aaaa") and start.endswith("…")
    # Case folding that changes length (İ -> i̇) falls back to aligning on the original.
    folded = preview("needle", "İ" * 300 + " needle " + "b" * 300)
    assert "needle" in folded and len(folded) <= 200


def test_term_overlap_prefers_whole_words() -> None:
    overlap = TermOverlap("pol-358 (x)")
    assert overlap("see pol-358, now") == 2
    assert overlap("pol-358") == 2
    assert overlap("see pol-3581") == 1
    assert overlap("nothing") == 0
    assert overlap("a (x) b pol-358") == 4


@pytest.mark.parametrize("bad", [True, "60", math.nan, math.inf, -0.1, 100.5, None])
def test_threshold_bounds(bad: object) -> None:
    with pytest.raises(InvalidInput):
        check_threshold(bad)


def test_threshold_accepts_numbers() -> None:
    assert check_threshold(0) == 0.0
    assert check_threshold(99.5) == 99.5


async def test_service_rejects_non_boolean_metadata_flag_and_bad_dates(
    services: Services,
) -> None:
    alice = Principal("alice", "claude", AGENT_CEILING)
    sid = (await services.sessions.create(alice, "flags", None)).session_id
    with pytest.raises(InvalidInput):
        await services.search.search_context(alice, sid, "x", search_metadata="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await services.search.by_timerange(alice, sid, 20260101, "2026-01-02T00:00:00Z")  # type: ignore[arg-type]


def test_window_pass_finds_typos_in_long_messages() -> None:
    """Why the shipped scorer is not token_set_ratio alone (which ties on the short corpus)."""
    from rapidfuzz import fuzz

    long_text = (
        "retro notes: we agreed to rewrite the onboarding checklist before the next hiring "
        "round, move the standup to ten, archive the old wiki pages and rotate the on-call "
        "schedule so nobody covers two weekends in a row"
    )
    distractor = "checklist updated"
    query = "onbording checklist"
    assert fuzz.token_set_ratio(query, long_text) < fuzz.token_set_ratio(query, distractor)
    assert score_text(query, long_text) > score_text(query, distractor)


def test_scoring_budget_keeps_the_leading_candidates() -> None:
    from shared_context.services.search_scoring import within_budget
    from shared_context.storage.search import Candidate

    def row(i: int, size: int) -> Candidate:
        return Candidate((i, "s", "a", "t", "x" * size, "public", "{}", None, 0.0))

    budget = [25]
    first = within_budget([row(1, 10), row(2, 10), row(3, 10)], budget)
    assert [c.id for c in first] == [1, 2]
    assert budget == [1]
    assert within_budget([row(4, 1)], budget) == []  # "{}" counts too


def test_a_page_is_what_scoring_everything_and_sorting_gives() -> None:
    """The word-set pass asked only for scores that can reach the page, and the term overlap
    computed only for ties inside it, give exactly the page of the exhaustive ranking."""
    import json

    from shared_context.benchmark.search_workload import messages, query_mix
    from shared_context.services.search_scoring import Scored, TermOverlap, rank, score_candidates
    from shared_context.services.search_text import NormalisedTexts
    from shared_context.storage.search import Candidate

    corpus = list(messages(600))
    candidates = [
        Candidate((i, "s", "a", "t", text, "public", json.dumps(meta), None, 0.0), exact=i % 7 == 0)
        for i, (text, meta) in enumerate(corpus, start=1)
    ]
    cache = NormalisedTexts()
    compared = 0
    for query in query_mix(corpus, 80):
        needle = query.text.lower().strip()
        for page, threshold, metadata in ((10, 60.0, True), (3, 40.0, False), (1, 80.0, True)):
            everything = score_candidates(needle, candidates, metadata, threshold, cache)
            overlap = TermOverlap(needle)
            for item in everything:
                item.overlap = overlap(item.lowered)
            expected = sorted(everything, key=Scored.key)[:page]
            pruned = score_candidates(needle, candidates, metadata, threshold, cache, page=page)
            got = rank(pruned, needle, page)

            def view(items: list[Scored]) -> list[tuple[int, float, bool]]:
                return [(s.candidate.id, s.score, s.in_metadata) for s in items]

            assert view(got) == view(expected), (needle, page, threshold)
            assert bool(pruned) == bool(everything)  # "nothing reached the threshold" too
            compared += len(expected)
    assert compared > 500  # the queries do find pages to compare
