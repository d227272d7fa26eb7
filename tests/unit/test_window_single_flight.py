"""Concurrent readers of a session share one window build per version (services/read_cache.py
with cache.SingleFlight): after a write, one database read, not one per reader."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shared_context.bootstrap import open_services
from shared_context.cache import SingleFlight
from tests.conftest import make_settings
from tests.e2e.live import token_for


async def test_concurrent_readers_after_a_write_share_one_window_build(tmp_path: Path) -> None:
    async with open_services(make_settings(tmp_path / "d")) as app:
        reader = await app.auth.resolve(await token_for(app, "reader"))
        sid = (await app.sessions.create(reader, "crowd", None)).session_id
        await app.messages.add(reader, sid, "first")
        cache = app.messages._cache
        assert cache is not None
        for round_ in range(3):
            await app.messages.add(reader, sid, f"write {round_}")  # a new version
            before = cache.stats()["window"]["builds"]
            pages = await asyncio.gather(
                *(app.messages.get(reader, sid, limit=50, offset=i) for i in range(20))
            )
            assert all(page.messages for page in pages[:2])
            assert cache.stats()["window"]["builds"] - before == 1
        assert cache.stats()["window"]["joined"] >= 3


async def test_a_failed_build_fails_its_joiners_and_leaves_nothing_behind() -> None:
    flight: SingleFlight[int] = SingleFlight()
    gate = asyncio.Event()

    async def failing() -> int:
        await gate.wait()
        raise RuntimeError("database hiccup")

    first = asyncio.ensure_future(flight.run("k", failing))
    await asyncio.sleep(0)
    joiner = asyncio.ensure_future(flight.run("k", failing))
    await asyncio.sleep(0)
    gate.set()
    for task in (first, joiner):
        with pytest.raises(RuntimeError):
            await task
    assert flight.stats() == {"builds": 1, "joined": 1, "in_flight": 0}

    async def fine() -> int:
        return 7

    assert await flight.run("k", fine) == 7  # the next miss builds again


async def test_a_cancelled_build_lets_a_joiner_build() -> None:
    flight: SingleFlight[int] = SingleFlight()
    never = asyncio.Event()

    async def stuck() -> int:
        await never.wait()
        return 0

    async def fine() -> int:
        return 5

    first = asyncio.ensure_future(flight.run("k", stuck))
    await asyncio.sleep(0)
    joiner = asyncio.ensure_future(flight.run("k", fine))
    await asyncio.sleep(0)
    first.cancel()
    assert await joiner == 5
    assert flight.stats()["in_flight"] == 0
