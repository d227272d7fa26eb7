"""The normalised-text cache of search: equal raw text only, bounded by entries and size."""

from __future__ import annotations

from shared_context.services.search_text import NormalisedTexts


def test_entries_are_lowered_and_reused_only_for_equal_raw_text() -> None:
    cache = NormalisedTexts()
    assert cache.get(1, "Hello POL-358", '{"t": "INC-7781"}') == ("hello pol-358", "inc-7781")
    assert cache.get(1, "Hello POL-358", '{"t": "INC-7781"}') == ("hello pol-358", "inc-7781")
    assert (cache.hits, cache.misses) == (1, 1)
    # Same id, different text (a reused id): recomputed, never the stale entry.
    assert cache.get(1, "Other TEXT", "{}") == ("other text", "")
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
    assert len(cache) == 4_000 // 606
    before = (len(cache), cache.chars)
    # Larger than a quarter of the budget: answered, but not kept (no flush of the rest).
    assert cache.get(999, "Z" * 5_000, "{}") == ("z" * 5_000, "")
    assert (len(cache), cache.chars) == before
