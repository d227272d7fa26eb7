"""Background maintenance in one supervised place.

Jobs (expiry sweeps, retention, cache trimming, database upkeep) register here with an
interval. Each runs in its own task; a failing run is logged, counted and retried at the next
interval; a job never takes the server down. Stopping cancels every task and waits for them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

JobFn = Callable[[], Awaitable[Any]]


@dataclass
class JobState:
    name: str
    interval: float
    fn: JobFn
    runs: int = 0
    failures: int = 0
    last_error: str | None = None
    last_duration_ms: float = 0.0


class Maintenance:
    def __init__(self) -> None:
        self._jobs: dict[str, JobState] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def add_job(self, name: str, interval_seconds: float, fn: JobFn) -> None:
        if name in self._jobs:
            raise ValueError(f"maintenance job {name!r} registered twice")
        self._jobs[name] = JobState(name, max(0.01, interval_seconds), fn)

    async def run_once(self, name: str) -> bool:
        """Run one job now; True when it succeeded."""
        job = self._jobs[name]
        started = time.perf_counter()
        try:
            await job.fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            job.failures += 1
            job.last_error = f"{type(exc).__name__}: {exc}"[:300]
            log.exception("maintenance job %s failed; it will run again", name)
            return False
        finally:
            job.runs += 1
            job.last_duration_ms = round(1000 * (time.perf_counter() - started), 3)
        job.last_error = None
        return True

    async def _loop(self, job: JobState) -> None:
        while True:
            await asyncio.sleep(job.interval)
            await self.run_once(job.name)

    def start(self) -> None:
        for job in self._jobs.values():
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"scs-job-{job.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def status(self) -> dict[str, Any]:
        return {
            name: {
                "interval_seconds": job.interval,
                "runs": job.runs,
                "failures": job.failures,
                "last_error": job.last_error,
                "last_duration_ms": job.last_duration_ms,
            }
            for name, job in self._jobs.items()
        }
