"""Time, injectable so expiry and presence can be tested without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to; used by tests and simulations."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, epoch_seconds: float) -> None:
        self._now = epoch_seconds


def iso(ts: float | None) -> str | None:
    """Render epoch seconds as ISO 8601 UTC (``2026-01-01T00:00:00.000000+00:00``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat()


def parse_iso(value: str, field: str) -> float:
    """Parse an ISO 8601 date-time into epoch seconds; naive values are taken as UTC."""
    from shared_context.domain.errors import InvalidInput

    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time string.")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"{field} is not a valid ISO 8601 date-time: {value[:64]!r} "
            "(expected e.g. 2026-01-31T12:00:00Z)."
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
