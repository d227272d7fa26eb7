"""A versioned cache keeps one generation per key: older versions can never be read again."""

from __future__ import annotations

from shared_context.cache import VersionedLRU


def test_a_newer_version_drops_the_older_entry_at_once() -> None:
    lru: VersionedLRU[str] = VersionedLRU("t", 1000, 60, versioned=True)
    for version in range(1, 101):
        lru.put(("s1", version), f"window {version}")
        lru.put(("s2", version), f"window {version}")
    stats = lru.stats()
    assert stats["size"] == 2  # one live generation per session, not 200 entries
    assert stats["superseded"] == 198
    assert stats["evictions"] == 0
    assert lru.get(("s1", 100)) == "window 100"
    assert lru.get(("s1", 99)) is None


def test_a_late_put_under_a_superseded_version_is_not_kept() -> None:
    lru: VersionedLRU[str] = VersionedLRU("t", 1000, 60, versioned=True)
    lru.put(("s", 7), "new")
    lru.put(("s", 6), "read before the write, stored after it")
    assert lru.get(("s", 7)) == "new"
    assert lru.get(("s", 6)) is None
    assert lru.stats()["size"] == 1


def test_eviction_and_expiry_forget_the_generation() -> None:
    clock = [0.0]
    lru: VersionedLRU[str] = VersionedLRU("t", 2, 10, lambda: clock[0], versioned=True)
    lru.put(("a", 1), "a1")
    lru.put(("b", 1), "b1")
    lru.put(("c", 1), "c1")  # evicts a
    lru.put(("a", 0), "a0")  # a's generation was forgotten with its entry: kept again
    assert lru.get(("a", 0)) == "a0"
    clock[0] = 100.0
    assert lru.trim() == 2
    lru.put(("c", 0), "c0")
    assert lru.get(("c", 0)) == "c0"
    assert lru.stats()["size"] == 1


def test_unversioned_keys_are_left_alone() -> None:
    lru: VersionedLRU[str] = VersionedLRU("t", 1000, 60)
    lru.put(("s", 1), "one")
    lru.put(("s", 2), "two")
    assert lru.get(("s", 1)) == "one"
    assert lru.stats()["superseded"] == 0
