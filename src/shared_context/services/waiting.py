"""``wait_for_messages``: return as soon as a message the caller may see exists after after_id.

No polling: the waiter subscribes to the event bus for its session, checks each
message_added/visibility_changed event with ``domain.visibility.can_see`` for the caller, and
only then re-queries (the query applies the same rule in SQL). An event for a message the
caller may not see never wakes it. Waiters are bounded in total, per agent and per
connection (``domain.quotas``), and a waiter re-checks its identity (expiry, revoked token or
key) every time it is about to answer, so a revoked token stops getting messages.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Hashable

from shared_context.domain.bounds import WAIT_PAGE, WAIT_TIMEOUT_SECONDS
from shared_context.domain.errors import InvalidInput
from shared_context.domain.models import Message, MessageQuery, Principal
from shared_context.domain.permissions import Permission, require
from shared_context.domain.quotas import SlotQuota
from shared_context.domain.validation import check_int
from shared_context.domain.visibility import can_see
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.messages import MessageService
from shared_context.services.results import WaitResult, message_shape
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


Recheck = Callable[[Principal], Awaitable[None]]


async def _trusted(_: Principal) -> None:
    return None


class WaitService:
    def __init__(
        self,
        store: Store,
        messages: MessageService,
        bus: EventBus,
        *,
        max_waiters_per_agent: int,
        max_waiters: int = 1024,
        max_waiters_per_connection: int = 16,
        recheck: Recheck = _trusted,
    ) -> None:
        self._store = store
        self._messages = messages
        self._bus = bus
        self._recheck = recheck
        self.quota = SlotQuota(
            "wait_for_messages",
            total=max_waiters,
            per_agent=max_waiters_per_agent,
            per_connection=max_waiters_per_connection,
        )

    @property
    def waiters(self) -> int:
        return self.quota.used

    async def wait(
        self,
        principal: Principal,
        session_id: str,
        after_id: int | None = None,
        timeout_seconds: float = 30,
        limit: int = 50,
        *,
        connection: Hashable = None,
    ) -> WaitResult:
        require(principal, Permission.READ)
        timeout = check_timeout(timeout_seconds)
        page = check_int(limit, "limit", low=1, high=MAX_WAIT_PAGE)
        after = None if after_id is None else check_int(after_id, "after_id", low=0, high=2**62)
        sid = session_id
        where = connection if connection is not None else ("agent", principal.agent_id)
        self.quota.acquire(principal.agent_id, where)
        try:
            return await self._wait(principal, sid, after, timeout, page)
        finally:
            self.quota.release(principal.agent_id, where)

    async def _wait(
        self, principal: Principal, sid: str, after: int | None, timeout: float, page: int
    ) -> WaitResult:
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
                # Start after the newest message *this caller* may see: the session's last id
                # may belong to a message hidden from the caller, and last_id must not leak it.
                newest, _ = await self._messages.read(
                    principal, MessageQuery(session_id=sid, limit=1, newest_first=True)
                )
                floor[0] = after = newest[0].id if newest else 0
            while True:
                wake.clear()
                await self._recheck(principal)  # revoked or expired meanwhile: stop here
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


def _result(found: list[Message], *, timed_out: bool, after: int) -> WaitResult:
    return WaitResult(
        messages=[message_shape(m) for m in found],
        count=len(found),
        timed_out=timed_out,
        last_id=found[-1].id if found else after,
    )
