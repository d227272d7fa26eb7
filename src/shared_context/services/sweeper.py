"""The background task that removes expired memory and applies audit retention.

Self-contained on purpose: one asyncio task started by ``bootstrap.open_services`` and
cancelled on shutdown. A job that fails is logged and tried again on the next run; it never
stops the loop or the other jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[int]]


class Sweeper:
    def __init__(self, jobs: Sequence[tuple[str, Job]], interval_seconds: float) -> None:
        self._jobs = list(jobs)
        self.interval = interval_seconds
        self.runs = 0
        self.failures = 0

    async def run_once(self) -> dict[str, int]:
        """Run every job once; a failing job is logged and reported as -1."""
        results: dict[str, int] = {}
        for name, job in self._jobs:
            try:
                results[name] = await job()
            except Exception:
                self.failures += 1
                results[name] = -1
                log.exception("background job %s failed; retrying in %ss", name, self.interval)
        self.runs += 1
        return results

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.run_once()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Sweeper]:
        task = asyncio.create_task(self.run_forever(), name="scs-sweeper")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
