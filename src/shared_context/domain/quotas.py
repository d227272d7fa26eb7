"""Fair shares of a bounded pool of slots (subscriptions, listen streams, waiters).

A global cap alone lets one client take every slot (one connection minting eleven agent ids
once held all 1,024 subscription slots). A ``SlotQuota`` bounds holders three ways: in total,
per agent id and per connection, so a hog is stopped by its own connection's share long
before the pool is full. Exceeding a share is ``RATE_LIMITED`` (the caller may retry once it
has released slots), never an internal error.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Hashable

from shared_context.domain.errors import ErrorCode, LimitExceeded


class SlotQuota:
    def __init__(self, what: str, *, total: int, per_agent: int, per_connection: int) -> None:
        self.what = what
        self.total = total
        self.per_agent = per_agent
        self.per_connection = per_connection
        self._agents: Counter[str] = Counter()
        self._connections: Counter[Hashable] = Counter()
        self._used = 0
        self._lock = threading.Lock()
        self.refused = 0

    @property
    def used(self) -> int:
        return self._used

    def acquire(self, agent_id: str, connection: Hashable, count: int = 1) -> None:
        """Take ``count`` slots for (agent, connection) or raise RATE_LIMITED, taking none."""
        if count <= 0:
            return
        with self._lock:
            limit = self._refusal(agent_id, connection, count)
            if limit is not None:
                self.refused += 1
                raise LimitExceeded(
                    f"{self.what} limit reached ({limit}); close some before opening more.",
                    code=ErrorCode.RATE_LIMITED,
                )
            self._agents[agent_id] += count
            self._connections[connection] += count
            self._used += count

    def _refusal(self, agent_id: str, connection: Hashable, count: int) -> str | None:
        if self._agents[agent_id] + count > self.per_agent:
            return f"{self.per_agent} per agent"
        if self._connections[connection] + count > self.per_connection:
            return f"{self.per_connection} per connection"
        if self._used + count > self.total:
            return f"{self.total} per server"
        return None

    def release(self, agent_id: str, connection: Hashable, count: int = 1) -> None:
        if count <= 0:
            return
        with self._lock:
            self._agents[agent_id] -= count
            if self._agents[agent_id] <= 0:
                del self._agents[agent_id]
            self._connections[connection] -= count
            if self._connections[connection] <= 0:
                del self._connections[connection]
            self._used = max(0, self._used - count)

    def held_by(self, agent_id: str) -> int:
        return self._agents.get(agent_id, 0)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "used": self._used,
                "total": self.total,
                "per_agent": self.per_agent,
                "per_connection": self.per_connection,
                "agents": len(self._agents),
                "connections": len(self._connections),
                "refused": self.refused,
            }
