"""Audit retention and the background sweeper (memory expiry + retention on an interval)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shared_context.bootstrap import open_services
from shared_context.domain.clock import ManualClock
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.memory_support import audit_rows, memory_rows, principal

DAY = 86400.0


async def test_retention_removes_only_rows_older_than_the_period(
    clocked_services: Services, clock: ManualClock
) -> None:
    audit = clocked_services.audit
    alice = principal("alice")
    await audit.record("old_event", alice)
    clock.advance(29 * DAY)
    await audit.record("recent_event", alice)
    clock.advance(1 * DAY + 1)
    assert await clocked_services.audit_log.apply_retention() == 1
    assert [r[1] for r in await audit_rows(clocked_services)] == ["recent_event"]
    assert await clocked_services.audit_log.apply_retention() == 0


async def test_retention_works_in_batches(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path / "d", memory_sweep_batch=7, audit_retention_days=1)
    async with open_services(settings, clock=clock) as app:
        for i in range(30):
            await app.audit.record(f"e{i}", principal("alice"))
        clock.advance(2 * DAY)
        assert await app.audit_log.apply_retention() == 30
        assert await audit_rows(app) == []


async def test_summary_window_follows_the_clock(
    clocked_services: Services, clock: ManualClock
) -> None:
    alice = principal("alice")
    await clocked_services.audit.record("before", alice)
    clock.advance(3 * 3600)
    await clocked_services.audit.record("after", alice)
    two_hours = await clocked_services.audit_log.summary(alice, hours=2)
    assert two_hours.by_event_type == {"after": 1}
    four_hours = await clocked_services.audit_log.summary(alice, hours=4)
    assert four_hours.total_events == 2


async def test_open_services_runs_the_sweeper_and_stops_it_on_exit(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(tmp_path / "d", memory_sweep_interval_seconds=0.05)
    async with open_services(settings, clock=clock) as app:
        alice = principal("alice")
        await app.memory.set(alice, "short", 1, expires_in=1)
        await app.memory.set(alice, "long", 1)
        clock.advance(1)
        async with asyncio.timeout(10):
            while len(await memory_rows(app)) != 1:
                await asyncio.sleep(0.02)
        assert [r[2] for r in await memory_rows(app)] == ["long"]
        names = {"scs-job-memory_expiry", "scs-job-audit_retention"}
        tasks = [t for t in asyncio.all_tasks() if t.get_name() in names]
        assert len(tasks) == 2
    assert all(task.done() for task in tasks)
