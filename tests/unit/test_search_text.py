"""The normalised-text cache of search: equal raw text only, bounded by entries and size."""

from __future__ import annotations

from rapidfuzz import fuzz

from shared_context.benchmark.search_workload import messages, query_mix
from shared_context.services.search_scoring import score_batch, word_set_reachable
from shared_context.services.search_text import NormalisedTexts, Words


def test_entries_are_lowered_and_reused_only_for_equal_raw_text() -> None:
    cache = NormalisedTexts()
    first = cache.get(1, "Hello POL-358 hello", '{"t": "INC-7781"}')
    assert (first.content, first.metadata) == ("hello pol-358 hello", "inc-7781")
    assert first.content_words == Words(frozenset({"hello", "pol-358"}), 13)
    assert cache.get(1, "Hello POL-358 hello", '{"t": "INC-7781"}') is first
    assert (cache.hits, cache.misses) == (1, 1)
    # Same id, different text (a reused id): recomputed, never the stale entry.
    again = cache.get(1, "Other TEXT", "{}")
    assert (again.content, again.metadata) == ("other text", "")
    assert (cache.hits, cache.misses) == (1, 2)
    assert len(cache) == 1


def test_cache_is_bounded_by_entries_and_characters() -> None:
    cache = NormalisedTexts(max_entries=10, max_chars=4_000)
    for i in range(100):
        cache.get(i, "x" * 50, "{}")
    assert len(cache) == 10
    assert cache.chars <= 4_000
    cache = NormalisedTexts(max_entries=1_000, max_chars=4_000)
    for i in range(100):
        cache.get(i, "y" * 300, "{}")
    assert cache.chars <= 4_000
    assert len(cache) == 4_000 // 902  # raw 300 + "{}" + the lowered 300 counted twice
    before = (len(cache), cache.chars)
    # Larger than a quarter of the budget: answered, but not kept (no flush of the rest).
    assert cache.get(999, "Z" * 5_000, "{}").content == "z" * 5_000
    assert (len(cache), cache.chars) == before


def test_word_set_skip_never_drops_a_text_that_scores() -> None:
    corpus = list(messages(400))
    texts = [content.lower() for content, _ in corpus]
    skipped = 0
    for query in query_mix(corpus, 120):
        asked = query.text.lower()
        for cutoff in (30.0, 60.0, 85.0):
            for text in texts:
                if not word_set_reachable(Words.of(asked), Words.of(text), cutoff):
                    skipped += 1
                    assert fuzz.token_set_ratio(asked, text) < cutoff, (asked, text)
    assert skipped > 10_000  # the rule does skip most texts on this corpus


def test_score_batch_is_the_same_with_and_without_word_sets() -> None:
    corpus = list(messages(300))
    texts = [content.lower() for content, _ in corpus]
    words: list[Words | None] = [Words.of(t) for t in texts]
    for query in query_mix(corpus, 60):
        asked = query.text.lower()
        assert score_batch(asked, texts, 60, words) == score_batch(asked, texts, 60)


def test_lookups_without_keep_do_not_store() -> None:
    cache = NormalisedTexts()
    assert cache.get(7, "Fresh ROW", "{}", keep=False).content == "fresh row"
    assert len(cache) == 0
    cache.get(7, "Fresh ROW", "{}")
    assert cache.get(7, "Fresh ROW", "{}", keep=False).reused is True
