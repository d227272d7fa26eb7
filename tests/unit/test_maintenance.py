"""The maintenance supervisor keeps jobs running through failures."""

from __future__ import annotations

import asyncio

from shared_context.services.maintenance import Maintenance


async def test_a_crashing_job_is_retried_and_never_kills_the_loop() -> None:
    maintenance = Maintenance()
    runs: list[int] = []
    done = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) <= 2:
            raise RuntimeError("boom")
        done.set()

    maintenance.add_job("flaky", 0.01, flaky)
    maintenance.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        await maintenance.stop()
    status = maintenance.status()["flaky"]
    assert status["failures"] == 2
    assert status["runs"] >= 3
    assert status["last_error"] is None


async def test_run_once_reports_failure() -> None:
    maintenance = Maintenance()

    async def broken() -> None:
        raise ValueError("no")

    maintenance.add_job("broken", 60, broken)
    assert await maintenance.run_once("broken") is False
    assert maintenance.status()["broken"]["last_error"] == "ValueError: no"


async def test_storage_upkeep_purges_expired_revocations(services: object) -> None:
    from shared_context.services.container import Services

    assert isinstance(services, Services)
    now = services.clock.now()
    await services.store.revoke_token("old-jti", now - 10)
    await services.store.revoke_token("live-jti", now + 3600)
    assert await services.maintenance.run_once("storage_upkeep") is True
    assert await services.store.token_revocation("old-jti", "") == (False, True)
    assert (await services.store.token_revocation("live-jti", ""))[0] is True
