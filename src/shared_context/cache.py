"""Caches that are correct by construction.

Every key carries the session's write version. A write bumps the version (from the event bus,
after commit), so entries written before it become unreachable; nothing is ever invalidated
by hand. A reader captures the version *before* it reads the database and stores its result
under that captured version, so a result read concurrently with a write can only land under
the old, already unreachable version. Bounded by entries (LRU) and age (TTL); hits, misses and
evictions are counted for real.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class VersionedLRU(Generic[V]):
    def __init__(
        self,
        name: str,
        max_entries: int,
        ttl_seconds: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._max = max_entries
        self._ttl = ttl_seconds
        self._now = now
        self._data: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.expirations = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return None
            stored_at, value = item
            if self._now() - stored_at > self._ttl:
                del self._data[key]
                self.expirations += 1
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._data[key] = (self._now(), value)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)
                self.evictions += 1

    def trim(self) -> int:
        """Drop entries past their TTL; returns how many."""
        cutoff = self._now() - self._ttl
        with self._lock:
            stale = [k for k, (at, _) in self._data.items() if at < cutoff]
            for key in stale:
                del self._data[key]
            self.expirations += len(stale)
        return len(stale)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            lookups = self.hits + self.misses
            return {
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
                "expirations": self.expirations,
                "hit_ratio": round(self.hits / lookups, 4) if lookups else 0.0,
                "size": len(self._data),
                "max_entries": self._max,
            }


class SessionVersions:
    """A per-session counter bumped on every committed change to the session.

    A session's version is ``base + its own count``: ``bump`` raises one session's,
    ``bump_all`` (changes may have been missed) every session's at once. Both only grow, so
    each session's version strictly increases and an old key is never reachable again.
    """

    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._base = 0
        self._lock = threading.Lock()

    def current(self, session_id: str) -> int:
        return self._base + self._versions.get(session_id, 0)

    def bump(self, session_id: str) -> None:
        with self._lock:
            self._versions[session_id] = self._versions.get(session_id, 0) + 1

    def bump_all(self) -> None:
        with self._lock:
            self._base += 1
