"""Which change-log sequence numbers are this process's own (storage/sqlite/changes.py)."""

from __future__ import annotations

from shared_context.storage.sqlite.changes import OwnRanges


def test_covers_needs_every_number_to_be_ours() -> None:
    own = OwnRanges()
    own.add(10, 12)
    own.add(12, 15)
    own.add(16, 18)  # 16 was someone else's
    assert own.covers(10, 15)
    assert own.covers(11, 15)
    assert own.covers(10, 10)
    assert not own.covers(10, 16)
    assert not own.covers(9, 12)  # 10 is not ours
    assert own.covers(16, 18)
    assert not own.covers(15, 18)
    assert not own.covers(18, 19)  # past every range


def test_forgotten_ranges_are_not_ours_any_more() -> None:
    own = OwnRanges()
    own.add(0, 3)
    own.add(3, 5)
    own.forget_through(3)
    assert own.covers(3, 5)
    assert not own.covers(0, 5)
    own.discard(3, 5)
    assert not own.covers(3, 5)
