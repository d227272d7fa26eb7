"""Failed-authentication limits (SPEC §19): per presented key and per claimed agent id, and a
bounded audit trail of failures.

- A *bucket* is a presented API key (by a digest of its first characters, the "key prefix":
  retries of one wrong or revoked key land in one bucket whatever its tail) or a claimed agent
  id. A bucket with ``max_failures`` failures within ``window_seconds`` is refused with
  ``RATE_LIMITED`` before the key is even looked up, until its failures age out.
- Audit: the first ``audit_budget`` failures of each window are recorded one row each; the
  rest are only counted and written as one aggregate row (``drain_suppressed``), so 2,000
  failures cost ~``audit_budget`` + 1 rows, not 2,000.
- Memory: at most ``max_buckets`` buckets; the stalest go first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque

from shared_context.domain.errors import ErrorCode, LimitExceeded

KEY_PREFIX_CHARS = 12


def key_bucket(api_key: str | None) -> str | None:
    if not api_key:
        return None
    head = api_key[:KEY_PREFIX_CHARS].encode("utf-8", "surrogatepass")
    return "key:" + hashlib.sha256(head).hexdigest()[:16]


def agent_bucket(agent_id: str | None) -> str | None:
    return f"agent:{agent_id[:100]}" if agent_id else None


class AuthFailureGuard:
    def __init__(
        self,
        *,
        max_failures: int,
        window_seconds: float,
        audit_budget: int,
        max_buckets: int = 10_000,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._budget = audit_budget
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._audited_in_window = 0
        self._suppressed = 0
        self.refused = 0
        self.failures = 0

    def check(self, now: float, *buckets: str | None) -> None:
        """Raise RATE_LIMITED when any of the buckets is over its limit."""
        with self._lock:
            for bucket in buckets:
                if bucket is None:
                    continue
                times = self._buckets.get(bucket)
                if times is None:
                    continue
                self._age(times, now)
                if len(times) >= self._max:
                    self.refused += 1
                    wait = max(1, int(times[0] + self._window - now) + 1)
                    raise LimitExceeded(
                        f"Too many failed authentications; try again in {wait} s.",
                        code=ErrorCode.RATE_LIMITED,
                        details={"retry_after_seconds": wait},
                    )

    def failed(self, now: float, *buckets: str | None) -> bool:
        """Count a failure; True when it should get its own audit row (within the budget)."""
        with self._lock:
            self.failures += 1
            for bucket in buckets:
                if bucket is None:
                    continue
                times = self._buckets.pop(bucket, None) or deque()
                self._age(times, now)
                times.append(now)
                while len(times) > self._max:
                    times.popleft()
                self._buckets[bucket] = times  # most recent last
                while len(self._buckets) > self._max_buckets:
                    self._buckets.popitem(last=False)
            if now - self._window_start >= self._window:
                self._window_start = now
                self._audited_in_window = 0
            if self._audited_in_window < self._budget:
                self._audited_in_window += 1
                return True
            self._suppressed += 1
            return False

    def drain_suppressed(self) -> int:
        """Failures counted but not recorded since the last drain (for one aggregate row)."""
        with self._lock:
            count, self._suppressed = self._suppressed, 0
            return count

    def _age(self, times: deque[float], now: float) -> None:
        cutoff = now - self._window
        while times and times[0] <= cutoff:
            times.popleft()

    def stats(self) -> dict[str, int | float]:
        with self._lock:
            return {
                "failures": self.failures,
                "refused": self.refused,
                "buckets": len(self._buckets),
                "max_buckets": self._max_buckets,
                "suppressed_pending": self._suppressed,
                "max_failures": self._max,
                "window_seconds": self._window,
                "audit_budget": self._budget,
            }
