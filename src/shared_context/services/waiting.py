"""``wait_for_messages``: return as soon as a message the caller may see exists after after_id.

No polling: the waiter subscribes to the event bus for its session, checks each
message_added/visibility_changed event with ``domain.visibility.can_see`` for the caller, and
only then re-queries (the query applies the same rule in SQL). An event for a message the
caller may not see never wakes it. Waiters per agent are bounded.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from typing import Any

from shared_context.domain.bounds import WAIT_PAGE, WAIT_TIMEOUT_SECONDS
from shared_context.domain.errors import ErrorCode, InvalidInput, LimitExceeded
from shared_context.domain.models import Message, MessageQuery, Principal
from shared_context.domain.permissions import Permission, require
from shared_context.domain.validation import check_int
from shared_context.domain.visibility import can_see
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.messages import MessageService
from shared_context.storage.base import Store

MAX_TIMEOUT_SECONDS = float(WAIT_TIMEOUT_SECONDS[1])
MAX_WAIT_PAGE = WAIT_PAGE[1]
WAKE_KINDS = frozenset({EventKind.MESSAGE_ADDED, EventKind.VISIBILITY_CHANGED})


def check_timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("timeout_seconds must be a number from 0 to 60.")
    if not 0 <= value <= MAX_TIMEOUT_SECONDS:
        raise InvalidInput(f"timeout_seconds must be from 0 to 60; got {value}.")
    return float(value)


class WaitService:
    def __init__(
        self, store: Store, messages: MessageService, bus: EventBus, *, max_waiters_per_agent: int
    ) -> None:
        self._store = store
        self._messages = messages
        self._bus = bus
        self._max = max_waiters_per_agent
        self._waiting: Counter[str] = Counter()

    @property
    def waiters(self) -> int:
        return sum(self._waiting.values())

    async def wait(
        self,
        principal: Principal,
        session_id: object,
        after_id: object = None,
        timeout_seconds: object = 30,
        limit: object = 50,
    ) -> dict[str, Any]:
        require(principal, Permission.READ)
        timeout = check_timeout(timeout_seconds)
        page = check_int(limit, "limit", low=1, high=MAX_WAIT_PAGE)
        after = None if after_id is None else check_int(after_id, "after_id", low=0, high=2**62)
        sid = str(session_id)
        if self._waiting[principal.agent_id] >= self._max:
            raise LimitExceeded(
                f"You already have {self._max} wait_for_messages calls open; let one finish "
                "before starting another.",
                code=ErrorCode.RATE_LIMITED,
            )
        self._waiting[principal.agent_id] += 1
        try:
            return await self._wait(principal, sid, after, timeout, page)
        finally:
            self._waiting[principal.agent_id] -= 1
            if self._waiting[principal.agent_id] <= 0:
                del self._waiting[principal.agent_id]

    async def _wait(
        self, principal: Principal, sid: str, after: int | None, timeout: float, page: int
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        wake = asyncio.Event()
        floor = [after or 0]

        def on_event(event: Event) -> None:
            if event.kind is EventKind.RESYNC:  # cross-instance events may have been missed
                wake.set()
                return
            if event.kind not in WAKE_KINDS or event.session_id != sid:
                return
            message = event.data.get("message")
            if (
                isinstance(message, Message)
                and message.id > floor[0]
                and can_see(principal, message)
            ):
                wake.set()

        # Subscribe before the first query, so a post committed in between still wakes us.
        unsubscribe = self._bus.subscribe(on_event)
        try:
            if after is None:
                await self._messages.read(principal, MessageQuery(session_id=sid, limit=1))
                floor[0] = after = await self._store.last_message_id(sid)
            while True:
                wake.clear()
                found, _ = await self._messages.read(
                    principal, MessageQuery(session_id=sid, limit=page, after_id=after)
                )
                if found:
                    return _result(found, timed_out=False, after=after)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return _result([], timed_out=True, after=after)
                try:
                    await asyncio.wait_for(wake.wait(), remaining)
                except TimeoutError:
                    return _result([], timed_out=True, after=after)
        finally:
            unsubscribe()


def _result(found: list[Message], *, timed_out: bool, after: int) -> dict[str, Any]:
    return {
        "success": True,
        "messages": [m.to_dict() for m in found],
        "count": len(found),
        "timed_out": timed_out,
        "last_id": found[-1].id if found else after,
    }
