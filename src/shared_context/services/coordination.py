"""The coordination services (presence, locks, waits) and their background tasks, as one unit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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

    async def start(self) -> None:
        await self.presence.start()
        await self.locks.start()

    async def close(self) -> None:
        await self.locks.close()
        await self.presence.close()

    async def stats(self) -> dict[str, Any]:
        """Measured coordination figures for metrics."""
        return {
            "active_agents": await self.presence.count_active(),
            "live_locks": await self.locks.count_live(),
            "waiters": self.waits.waiters,
            "subscriptions": sum(gauge() for gauge in self.subscription_gauges),
            "presence_flushes": self.presence.flushes,
            "expired_locks_purged": self.locks.purged,
        }
