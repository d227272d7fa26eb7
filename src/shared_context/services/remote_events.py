"""Completing events that arrive from other instances (PostgreSQL event bridge).

Cross-instance notifications carry ids only. Before such an event reaches local consumers
(waiters, subscriptions, caches), the message it names is read back from the shared database,
so every consumer applies ``domain.visibility.can_see`` to the real message, exactly as it
does for a local write. A message that no longer exists leaves the event as it came.
"""

from __future__ import annotations

import dataclasses

from shared_context.events.bus import Event, EventKind
from shared_context.storage.base import Store

MESSAGE_KINDS = frozenset({EventKind.MESSAGE_ADDED, EventKind.VISIBILITY_CHANGED})


class RemoteEventResolver:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.resolved = 0

    async def resolve(self, event: Event) -> Event:
        if event.kind not in MESSAGE_KINDS or not event.session_id or event.message_id is None:
            return event
        message = await self._store.get_message(event.session_id, event.message_id)
        if message is None:
            return event
        self.resolved += 1
        return dataclasses.replace(event, data={**event.data, "message": message})
