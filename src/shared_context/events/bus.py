"""An in-process publish/subscribe bus for change events, published after commit.

Subscribers are plain callables run synchronously in publish order; they must not block (set
an asyncio.Event, put on a queue). A subscriber that raises is logged and skipped, never
breaks the publisher. Consumers apply visibility themselves before anything leaves the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    MESSAGE_ADDED = "message_added"
    VISIBILITY_CHANGED = "visibility_changed"
    MEMORY_CHANGED = "memory_changed"
    LOCK_CHANGED = "lock_changed"
    PRESENCE_CHANGED = "presence_changed"
    SESSION_CHANGED = "session_changed"
    # Cross-instance events may have been missed (the bridge reconnected): re-query everything.
    RESYNC = "resync"
    # A token or API key was revoked: drop remembered token checks (no ids carried).
    AUTH_REVOKED = "auth_revoked"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    session_id: str | None = None
    agent_id: str | None = None
    message_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    origin: str = "local"


Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.published = 0
        self._forwarders: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def add_forwarder(self, forwarder: Subscriber) -> None:
        """Called for locally originated events only (e.g. to NOTIFY other instances)."""
        self._forwarders.append(forwarder)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        self.published += 1
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber failed for %s", event.kind)
        if event.origin == "local":
            for forwarder in self._forwarders:
                try:
                    forwarder(event)
                except Exception:
                    log.exception("event forwarder failed for %s", event.kind)
