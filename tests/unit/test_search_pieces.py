"""The rare-piece rule of the candidate stage, shared by both backends, and its memory of
pieces known to be too common."""

from __future__ import annotations

from collections.abc import Callable

from shared_context.benchmark.search_workload import messages, query_mix
from shared_context.storage.search_terms import CommonPieces, absent, choose_rare, query_terms


def drive(
    terms: list[str], count: Callable[[str], int], common: CommonPieces
) -> tuple[list[str], list[str], dict[str, int]]:
    """Run the rule with a document count; returns (chosen, pieces asked, counts seen)."""
    asked: list[str] = []
    seen: dict[str, int] = {}
    plan = choose_rare(
        terms, content_only=False, probe_cap=40, budget=60, common=common, counts=seen
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
