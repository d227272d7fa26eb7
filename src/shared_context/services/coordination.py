"""The coordination services (presence, locks, waits) as one unit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from shared_context.services.locks import LockService
from shared_context.services.presence import PresenceService
from shared_context.services.waiting import WaitService


@dataclass
class Coordination:
    presence: PresenceService
    locks: LockService
    waits: WaitService
    subscription_gauges: list[Callable[[], int]] = field(default_factory=list)
    """Transports that hold subscriptions report their open count here (for metrics)."""
    stream_closers: list[Callable[[], None]] = field(default_factory=list)
    """Transports register how to end their open subscription streams (on shutdown)."""

    def end_streams(self) -> None:
        for close in self.stream_closers:
            close()

    async def close(self) -> None:
        await self.presence.close()

    def gauges(self) -> dict[str, Callable[[], Awaitable[float] | float]]:
        """Measured figures for the metrics service (section ``coordination``)."""

        async def active_agents() -> float:
            return float(await self.presence.count_active())

        async def live_locks() -> float:
            return float(await self.locks.count_live())

        return {
            "active_agents": active_agents,
            "live_locks": live_locks,
            "waiters": lambda: float(self.waits.waiters),
            "subscriptions": lambda: float(sum(g() for g in self.subscription_gauges)),
            "presence_flushes": lambda: float(self.presence.flushes),
            "expired_locks_purged": lambda: float(self.locks.purged),
        }
