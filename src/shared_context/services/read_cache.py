"""Read caching for sessions and message pages (DESIGN §6), built on ``cache.VersionedLRU``.

Level ``window``: one shared copy of each hot session's most recent rows, all visibilities;
every reader's view is cut from it with ``domain.visibility.can_see`` (the same rule storage
applies in SQL). Level ``pages``: rendered pages per audience. Both keyed by the session's
write version, captured before the database is read. Level ``shapes``: each message rendered
once (``results.message_shape``) and shared by every audience's pages (issue 15: with one
identity per agent, 200 audiences missed ``pages`` after every write and each rendered the same
50 messages again). A shape is reused only for a message equal, field for field, to the one it
was rendered from (a visibility change or any other difference renders anew), and it reaches a
page only after that page's audience passed ``can_see`` for the message: sharing the rendering
never widens what anyone sees.

Across processes (SPEC §15): before a version is captured, ``fresh`` (the cross-process change
relay) makes sure every commit of any process on the same database has been applied to the
versions, so the cache is correct by construction for the whole machine, not one process.

Closed pages (``appends_in_id_order``, SQLite): a page followed by more visible messages (its
``has_more``) cannot be changed by a message added later, because every new message takes an id
above every message already written, whichever process writes it (SQLite has one writer at a
time, so ids are committed in order), and messages are never edited or deleted. Such a page
is also kept under the session's *rewrite* count, which moves only on what can change a written
message's standing (a visibility change, a session change, a resync), not on appends: oldest-
first reads of a long session are no longer read from the database after every post (issue 15:
at 200 agents the sessions outgrew the window and every ``get_messages`` went to storage). A
page that ends at the session's last visible message is kept under the full version only.
PostgreSQL (sequence ids may commit out of order) runs without this cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from shared_context.cache import (
    DEFAULT_MAX_BYTES,
    SessionVersions,
    SingleFlight,
    VersionedLRU,
    approx_size,
)
from shared_context.domain.models import Message, Principal, Session
from shared_context.domain.visibility import can_see
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.results import MessagePage, MessageShape, message_page, message_shape
from shared_context.storage.base import Store

_BUMPS = {EventKind.MESSAGE_ADDED, EventKind.VISIBILITY_CHANGED, EventKind.SESSION_CHANGED}
#: What can change a message already written, or whether it belongs on a page: not an append.
_REWRITES = {EventKind.VISIBILITY_CHANGED, EventKind.SESSION_CHANGED}


@dataclass(frozen=True, slots=True)
class Window:
    messages: tuple[Message, ...]
    complete: bool  # the window holds every message of the session

    def covers(self, after_id: int | None) -> bool:
        if self.complete:
            return True
        if not self.messages or after_id is None:
            return False
        return after_id >= self.messages[0].id - 1


Rendered = tuple[Message, MessageShape, int]  # the message, its shape, the shape's size


class Shapes:
    """Rendered messages shared across audiences, keyed by (session, message id) and reused
    only while the message is unchanged (bounded like every level: entries, bytes, TTL)."""

    def __init__(self, max_entries: int, ttl_seconds: float, max_bytes: int) -> None:
        self.lru: VersionedLRU[Rendered] = VersionedLRU(
            "shapes", max_entries, ttl_seconds, max_bytes=max_bytes, sizer=lambda r: r[2]
        )
        self.renders = 0
        self.reused = 0

    def get(self, message: Message) -> tuple[MessageShape, int]:
        key = (message.session_id, message.id)
        found = self.lru.get(key)
        if found is not None and (found[0] is message or found[0] == message):
            self.reused += 1
            return found[1], found[2]
        shape = message_shape(message)
        size = approx_size(shape)
        self.renders += 1
        self.lru.put(key, (message, shape, size))
        return shape, size

    def stats(self) -> dict[str, Any]:
        return {**self.lru.stats(), "renders": self.renders, "reused": self.reused}


_EMPTY_PAGE_BYTES = approx_size(message_page([], False))


def message_bytes(m: Message) -> int:
    """Exactly ``approx_size(m)`` without its generic walk: a window of 256 rows is sized on
    every write, 1.6 ms through ``approx_size`` on the loaded 2-core machine (issue 15)."""
    strings = len(m.session_id) + len(m.sender) + len(m.sender_type) + len(m.content)
    return (
        56  # the object
        + 3 * 28  # id, parent_message_id, created_at
        + 5 * 49  # session_id, sender, sender_type, content, visibility
        + strings
        + len(m.visibility)
        + (approx_size(m.metadata, 1) if m.metadata else 64)  # 64: an empty dict
    )


def window_bytes(window: Window) -> int:
    """Exactly ``approx_size(window)``: the object, its tuple of rows, its flag."""
    messages = window.messages
    return 56 + (56 + 8 * len(messages) + sum(map(message_bytes, messages))) + 28


class ReadCache:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        *,
        window_size: int,
        max_entries: int,
        ttl_seconds: float,
        max_bytes: int = DEFAULT_MAX_BYTES,
        fresh: Callable[[], Awaitable[None]] | None = None,
        appends_in_id_order: bool = False,
    ) -> None:
        self._store = store
        self._fresh = fresh
        self.versions = SessionVersions()
        # Counts only rewrites (see the module docstring); None: closed pages are not kept.
        self.rewrites: SessionVersions | None = SessionVersions() if appends_in_id_order else None
        self._window_size = window_size
        # Byte bound (SPEC §19) split: 1/8 sessions, 1/4 windows, 1/8 shapes, 1/2 pages.
        self.sessions: VersionedLRU[Session] = VersionedLRU(
            "sessions", max_entries, ttl_seconds, max_bytes=max_bytes // 8, versioned=True
        )
        self.windows: VersionedLRU[Window] = VersionedLRU(
            "window",
            max(16, max_entries // 20),
            ttl_seconds,
            max_bytes=max_bytes // 4,
            sizer=window_bytes,
            versioned=True,
        )
        self.shapes = Shapes(max_entries, ttl_seconds, max_bytes // 8)
        self.pages: VersionedLRU[MessagePage] = VersionedLRU(
            "pages", max_entries, ttl_seconds, max_bytes=max_bytes // 2, versioned=True
        )
        self.window_builds: SingleFlight[Window] = SingleFlight()
        bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind in _BUMPS and event.session_id:
            self.versions.bump(event.session_id)
            if self.rewrites is not None and event.kind in _REWRITES:
                self.rewrites.bump(event.session_id)
        elif event.kind is EventKind.RESYNC:  # changes may have been missed: trust nothing
            self.versions.bump_all()
            if self.rewrites is not None:
                self.rewrites.bump_all()

    async def version(self, session_id: str) -> int:
        """The session's version, after applying every commit any process has made."""
        if self._fresh is not None:
            await self._fresh()
        return self.versions.current(session_id)

    def applied_version(self, session_id: str) -> int:
        """The session's version as of the last ``version``/``session`` call of this caller:
        only for a caller that has just made one (this process's own commits are always in)."""
        return self.versions.current(session_id)

    def applied_rewrites(self, session_id: str) -> int | None:
        """The session's rewrite count, taken with ``applied_version`` (None: no closed pages)."""
        return None if self.rewrites is None else self.rewrites.current(session_id)

    async def session(self, session_id: str) -> Session | None:
        version = await self.version(session_id)
        found = self.sessions.get((session_id, version))
        if found is None:
            found = await self._store.get_session(session_id)
            if found is not None:
                self.sessions.put((session_id, version), found)
        return found

    async def page(
        self,
        key: Hashable,
        version: int,
        build: Callable[[], Awaitable[tuple[list[Message], bool]]],
        *,
        rewrites: int | None = None,
    ) -> MessagePage:
        """The rendered page under ``(key, version)``, or under ``((key, "closed"), rewrites)``
        when it is a closed page kept since (see the module docstring); on a miss ``build``
        returns the audience's visible messages (already filtered) and whether more follow.
        ``rewrites``: the session's ``applied_rewrites``, taken with ``version``."""
        full_key = (key, version)
        closed_key = None if rewrites is None else ((key, "closed"), rewrites)
        found = self.pages.get_any((full_key,) if closed_key is None else (full_key, closed_key))
        if found is None:
            messages, more = await build()
            found, size = self.render(messages, more)
            self.pages.put(full_key, found, size=size)
            if more and closed_key is not None:
                self.pages.put(closed_key, found, size=size)
        return found

    def render(self, messages: list[Message], more: bool) -> tuple[MessagePage, int]:
        """A page of shared shapes and its size estimate (as ``approx_size`` would count it,
        from the sizes taken once per shape)."""
        total = _EMPTY_PAGE_BYTES + 8 * len(messages)

        def shape(message: Message) -> MessageShape:
            nonlocal total
            rendered, size = self.shapes.get(message)
            total += size
            return rendered

        return message_page(messages, more, shape), total

    async def visible_after(
        self, viewer: Principal, session_id: str, version: int, after_id: int | None, want: int
    ) -> list[Message] | None:
        """Up to ``want`` visible messages after ``after_id`` cut from the shared window, or
        None when the window does not reach back far enough (the caller reads storage)."""
        window = self.windows.get((session_id, version))
        if window is None:
            window = await self.window_builds.run(
                (session_id, version), lambda: self._build_window(session_id, version)
            )
        if not window.covers(after_id):
            return None
        floor = after_id or 0
        out: list[Message] = []
        for message in window.messages:
            if message.id > floor and can_see(viewer, message):
                out.append(message)
                if len(out) >= want:
                    break
        return out

    async def _build_window(self, session_id: str, version: int) -> Window:
        rows = await self._store.recent_messages(session_id, self._window_size + 1)
        window = Window(tuple(rows[-self._window_size :]), len(rows) <= self._window_size)
        self.windows.put((session_id, version), window)
        return window

    def trim(self) -> int:
        return (
            self.sessions.trim() + self.windows.trim() + self.shapes.lru.trim() + self.pages.trim()
        )

    def stats(self) -> dict[str, Any]:
        builds = self.window_builds.stats()
        return {
            "sessions": self.sessions.stats(),
            "window": {
                **self.windows.stats(),
                "builds": builds["builds"],
                "joined": builds["joined"],
            },
            "shapes": self.shapes.stats(),
            "pages": self.pages.stats(),
        }
