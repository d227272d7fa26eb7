"""Caches that are correct by construction.

Every key carries the session's write version. A write bumps the version (from the event bus,
after commit), so entries written before it become unreachable; nothing is ever invalidated
by hand. A reader captures the version *before* it reads the database and stores its result
under that captured version, so a result read concurrently with a write can only land under
the old, already unreachable version. Bounded by entries (LRU), by bytes (a cheap estimate of
each value's size, ``approx_size``) and by age (TTL); hits, misses and evictions are counted for
real. A value larger than a quarter of the byte bound is not kept at all (SPEC §19: one reader
asking for many large pages must not grow the server's memory).

With ``versioned=True`` keys are ``(base, version)`` and a put under a newer version drops the
entry of the older one at once: it can never be read again, and under a write-heavy load the
superseded generations were most of what the cache held (issue 15: 350 message windows of 5
sessions, ~24,000 Message objects, after a 200-agent run). A put under an already superseded
version is not kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

V = TypeVar("V")

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_MAX_DEPTH = 8


def approx_size(value: object, depth: int = 0) -> int:
    """Roughly the bytes ``value`` holds (CPython object overheads included), walking
    containers and dataclasses. Cheap: one pass, no ``gc`` traversal, depth-bounded."""
    if isinstance(value, str):
        return 49 + len(value)
    if isinstance(value, bytes | bytearray):
        return 33 + len(value)
    if value is None or isinstance(value, bool | int | float):
        return 28
    if depth >= _MAX_DEPTH:
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return (
            64
            + 32 * len(value)
            + sum(approx_size(k, depth + 1) + approx_size(v, depth + 1) for k, v in value.items())
        )
    if isinstance(value, list | tuple | set | frozenset):
        return 56 + 8 * len(value) + sum(approx_size(v, depth + 1) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return 56 + sum(
            approx_size(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        )
    if isinstance(value, BaseModel):  # a typed service result: its fields and extras
        extra = approx_size(value.model_extra, depth + 1)
        return 56 + approx_size(value.__dict__, depth + 1) + extra
    return sys.getsizeof(value)


class VersionedLRU(Generic[V]):
    def __init__(
        self,
        name: str,
        max_entries: int,
        ttl_seconds: float,
        now: Callable[[], float] = time.monotonic,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sizer: Callable[[V], int] = approx_size,
        versioned: bool = False,
    ) -> None:
        self.name = name
        self._max = max_entries
        self._max_bytes = max_bytes
        self._ttl = ttl_seconds
        self._now = now
        self._sizer = sizer
        # key -> (stored at, value, estimated bytes)
        self._data: OrderedDict[Hashable, tuple[float, V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._versioned = versioned
        self._newest: dict[Hashable, int] = {}  # base -> version of its entry (versioned)
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.expirations = 0
        self.oversize = 0
        self.superseded = 0

    def _split(self, key: Hashable) -> tuple[Hashable, int] | None:
        if self._versioned and isinstance(key, tuple) and len(key) == 2:
            base, version = key
            if isinstance(version, int):
                return base, version
        return None

    def _drop(self, key: Hashable) -> None:
        """Remove ``key`` (lock held), forgetting its base's version if it was the entry."""
        item = self._data.pop(key, None)
        if item is not None:
            self._bytes -= item[2]
        split = self._split(key)
        if split is not None and self._newest.get(split[0]) == split[1]:
            del self._newest[split[0]]

    def get(self, key: Hashable) -> V | None:
        return self.get_any((key,))

    def get_any(self, keys: Sequence[Hashable]) -> V | None:
        """The value under the first of ``keys`` that holds a live one (for a value that may
        be stored under either of two keys): one lookup in the statistics, a hit or a miss."""
        with self._lock:
            for key in keys:
                item = self._data.get(key)
                if item is None:
                    continue
                stored_at, value, _ = item
                if self._now() - stored_at > self._ttl:
                    self._drop(key)
                    self.expirations += 1
                    continue
                self._data.move_to_end(key)
                self.hits += 1
                return value
            self.misses += 1
            return None

    def put(self, key: Hashable, value: V, *, size: int | None = None) -> None:
        """Keep ``value``; ``size`` is its estimate when the caller already knows it (e.g. a
        page of shared message shapes, whose sizes were taken once when each was rendered)."""
        if size is None:
            size = self._sizer(value)
        with self._lock:
            self._drop(key)
            split = self._split(key)
            if split is not None:
                base, version = split
                newest = self._newest.get(base)
                if newest is not None and version < newest:
                    self.superseded += 1  # a newer version is cached: this one is unreachable
                    return
                if newest is not None:
                    self._drop((base, newest))
                    self.superseded += 1
            if size > self._max_bytes // 4:
                self.oversize += 1  # would push out a quarter of the cache: not worth keeping
                return
            self._data[key] = (self._now(), value, size)
            self._bytes += size
            if split is not None:
                self._newest[split[0]] = split[1]
            while len(self._data) > self._max or self._bytes > self._max_bytes:
                self._drop(next(iter(self._data)))
                self.evictions += 1

    def trim(self) -> int:
        """Drop entries past their TTL; returns how many."""
        cutoff = self._now() - self._ttl
        with self._lock:
            stale = [k for k, (at, _, _) in self._data.items() if at < cutoff]
            for key in stale:
                self._drop(key)
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
                "bytes": self._bytes,
                "max_bytes": self._max_bytes,
                "oversize_skipped": self.oversize,
                "superseded": self.superseded,
            }


class SessionVersions:
    """A per-session counter bumped on every committed change to the session.

    A session's version is ``generation * 2**40 + base + its own count``: ``bump`` raises one
    session's, ``bump_all`` (changes may have been missed) every session's at once, and past
    ``max_sessions`` counters the table is cleared and the generation moves on. All only grow,
    so each session's version strictly increases and an old key is never reachable again.
    """

    _GENERATION = 1 << 40

    def __init__(self, max_sessions: int = 100_000) -> None:
        self._versions: dict[str, int] = {}
        self._generation = 0
        self._max = max_sessions
        self._base = 0
        self._lock = threading.Lock()
        self.resets = 0

    def current(self, session_id: str) -> int:
        return self._generation * self._GENERATION + self._base + self._versions.get(session_id, 0)

    def bump(self, session_id: str) -> None:
        with self._lock:
            if session_id not in self._versions and len(self._versions) >= self._max:
                self._versions.clear()
                self._generation += 1
                self.resets += 1
            self._versions[session_id] = self._versions.get(session_id, 0) + 1

    def bump_all(self) -> None:
        with self._lock:
            self._base += 1

    def stats(self) -> dict[str, int]:
        return {"tracked": len(self._versions), "max": self._max, "resets": self.resets}


class SingleFlight(Generic[V]):
    """Concurrent misses for one key share one build (issue 15: after each write, every
    concurrent reader of the session rebuilt the same message window from the database; with
    40 agents on a session that was a stampede per write). Entries live only while a build
    runs, so it is bounded by the calls in flight."""

    def __init__(self) -> None:
        self._pending: dict[Hashable, asyncio.Future[V]] = {}
        self.builds = 0
        self.joined = 0

    async def run(self, key: Hashable, build: Callable[[], Awaitable[V]]) -> V:
        pending = self._pending.get(key)
        if pending is not None:
            self.joined += 1
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this caller was cancelled, not the build
            # the build's caller was cancelled: build here instead
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        self.builds += 1
        try:
            value = await build()
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: joiners (if any) re-raise it
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            if self._pending.get(key) is future:
                del self._pending[key]
        future.set_result(value)
        return value

    def stats(self) -> dict[str, int]:
        return {"builds": self.builds, "joined": self.joined, "in_flight": len(self._pending)}
