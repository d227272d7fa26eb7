"""The rare-piece rule of the candidate stage, shared by both backends, and its memory of
pieces known to be too common."""

from __future__ import annotations

from collections.abc import Callable

from shared_context.benchmark.search_workload import messages, query_mix
from shared_context.storage.search_terms import (
    CommonPieces,
    KnownCounts,
    PieceCounts,
    absent,
    choose_rare,
    query_terms,
)


def drive(
    terms: list[str],
    count: Callable[[str], int],
    common: CommonPieces,
    known: KnownCounts | None = None,
) -> tuple[list[str], list[str], dict[str, int]]:
    """Run the rule with a document count; returns (chosen, pieces asked, counts seen)."""
    asked: list[str] = []
    seen: dict[str, int] = {}
    plan = choose_rare(
        terms,
        content_only=False,
        probe_cap=40,
        budget=60,
        common=common,
        counts=seen,
        known=known,
    )
    try:
        piece = next(plan)
        while True:
            asked.append(piece)
            piece = plan.send(count(piece))
    except StopIteration as done:
        return done.value, asked, seen


def test_remembered_common_pieces_choose_the_same_and_ask_less() -> None:
    texts = [content.lower() for content, _ in messages(400)]

    def count(piece: str) -> int:  # documents holding the piece, capped as the probe is
        return min(41, sum(piece in text for text in texts))

    common = CommonPieces()
    skipped = 0
    for query in query_mix(list(messages(400)), 60):
        terms = query_terms(query.text)
        fresh, asked_fresh, _ = drive(terms, count, CommonPieces())
        first, _, _ = drive(terms, count, common)
        again, asked_again, _ = drive(terms, count, common)
        assert fresh == first == again, query.text
        assert set(asked_again) <= set(asked_fresh)
        skipped += len(asked_fresh) - len(asked_again)
    assert skipped > 50  # common trigrams ("ing", "the") are not probed twice


def test_counts_seen_and_absent_terms() -> None:
    counts = {"abc": 3, "bcd": 0, "xyz": 9}
    _, asked, seen = drive(["abcd"], lambda p: counts.get(p, 0), CommonPieces())
    assert asked == ["abc", "bcd"] and seen == {"abc": 3, "bcd": 0}
    assert absent("abcd", seen)  # "bcd" is in no document: neither is "abcd"
    assert not absent("xyz", seen)  # never probed: not known to be absent
    assert not absent("abc", seen)


def test_the_memory_is_bounded_oldest_out() -> None:
    common = CommonPieces(max_entries=3)
    for piece in ("aaa", "bbb", "ccc", "ddd"):
        common.add((piece, False))
    common.add(("ddd", False))  # already known: nothing moves
    assert len(common) == 3
    assert ("aaa", False) not in common
    assert ("ddd", False) in common and ("ddd", True) not in common


def test_counts_known_at_one_state_choose_the_same_and_ask_less() -> None:
    texts = [content.lower() for content, _ in messages(400)]

    def count(piece: str) -> int:
        return min(41, sum(piece in text for text in texts))

    memory = PieceCounts()
    asked_total = asked_known = 0
    for query in query_mix(list(messages(400)), 60):
        terms = query_terms(query.text)
        fresh, asked_fresh, seen_fresh = drive(terms, count, CommonPieces())
        known, asked, seen = drive(terms, count, CommonPieces(), memory.at(7))
        assert known == fresh and seen == seen_fresh, query.text  # absent() sees the same
        assert set(asked) <= set(asked_fresh)
        asked_total += len(asked_fresh)
        asked_known += len(asked)
    assert asked_known < 0.8 * asked_total  # trigrams recur from query to query (67 % here)


def test_piece_counts_hold_one_index_state() -> None:
    memory = PieceCounts(max_entries=2)
    memory.at(5).put(("abc", False), 3)
    assert memory.at(5).get(("abc", False)) == 3
    older = memory.at(4)  # a search on an older snapshot: its own, empty memory
    assert older.get(("abc", False)) is None
    older.put(("abc", False), 1)
    assert memory.at(5).get(("abc", False)) == 3
    assert memory.at(None).get(("abc", False)) is None  # no state: nothing is reused
    newer = memory.at(6)  # a message was added: nothing known any more
    assert newer.get(("abc", False)) is None
    for piece in ("aaa", "bbb", "ccc"):
        newer.put((piece, False), 1)
    assert memory.at(6).get(("ccc", False)) is None  # bounded: beyond, not remembered
    assert memory.at(5).get(("aaa", False)) is None  # the older state is gone
