"""wait_for_messages: wakes on visible posts only, honours its timeout, bounds waiters."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastmcp import Client

from shared_context.bootstrap import open_services
from shared_context.domain.errors import SharedContextError
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.helpers import call, fail, login


def agent(name: str, kind: str = "claude") -> Principal:
    return Principal(agent_id=name, agent_type=kind, permissions=AGENT_CEILING)


async def started(app: Services, count: int) -> None:
    """Until ``count`` waiters are registered (bounded)."""
    for _ in range(500):
        if app.coordination.waits.waiters >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"only {app.coordination.waits.waiters} waiters started")


async def test_wakes_on_a_visible_post(services: Services) -> None:
    alice, bob = agent("alice"), agent("bob")
    sid = (await services.sessions.create(alice, "wait", None)).session_id
    first = await services.messages.add(alice, sid, "before")
    waits = services.coordination.waits
    waiter = asyncio.create_task(waits.wait(bob, sid, first.message_id, 10))
    await started(services, 1)
    posted = await services.messages.add(alice, sid, "hello bob")
    result = await asyncio.wait_for(waiter, 5)
    assert result.timed_out is False
    assert [m.content for m in result.messages] == ["hello bob"]
    assert result.last_id == posted.message_id
    assert waits.waiters == 0


async def test_returns_at_once_when_messages_exist(services: Services) -> None:
    alice = agent("alice")
    sid = (await services.sessions.create(alice, "wait", None)).session_id
    await services.messages.add(alice, sid, "one")
    await services.messages.add(alice, sid, "two")
    result = await services.coordination.waits.wait(alice, sid, 0, 0, limit=1)
    assert [m.content for m in result.messages] == ["one"]
    assert result.timed_out is False


async def test_private_message_of_another_agent_does_not_wake(services: Services) -> None:
    alice, bob = agent("alice"), agent("bob", "gemini")
    sid = (await services.sessions.create(alice, "wait", None)).session_id
    waiter = asyncio.create_task(services.coordination.waits.wait(bob, sid, 0, 0.3))
    await started(services, 1)
    await services.messages.add(alice, sid, "secret", "private")
    await services.messages.add(alice, sid, "for claudes", "agent_only")
    result = await asyncio.wait_for(waiter, 5)
    assert result.model_dump() == {
        "success": True,
        "messages": [],
        "count": 0,
        "timed_out": True,
        "last_id": 0,
    }


async def test_visibility_change_wakes_when_the_message_becomes_visible(
    services: Services,
) -> None:
    alice, bob = agent("alice"), agent("bob")
    sid = (await services.sessions.create(alice, "wait", None)).session_id
    secret = await services.messages.add(alice, sid, "draft", "private")
    waiter = asyncio.create_task(services.coordination.waits.wait(bob, sid, 0, 10))
    await started(services, 1)
    await services.messages.set_visibility(alice, sid, secret.message_id, "public")
    result = await asyncio.wait_for(waiter, 5)
    assert [m.content for m in result.messages] == ["draft"]


async def test_without_after_id_waits_for_new_messages_only(services: Services) -> None:
    alice = agent("alice")
    sid = (await services.sessions.create(alice, "wait", None)).session_id
    old = await services.messages.add(alice, sid, "old")
    result = await services.coordination.waits.wait(alice, sid, None, 0)
    assert result.timed_out is True and result.last_id == old.message_id


async def test_hundred_waiters_all_wake_on_one_post(services: Services) -> None:
    alice = agent("alice")
    sid = (await services.sessions.create(alice, "wait", None)).session_id
    waits = services.coordination.waits
    waiters = [asyncio.create_task(waits.wait(agent(f"w{i}"), sid, 0, 30)) for i in range(100)]
    await started(services, 100)
    await services.messages.add(alice, sid, "wake up")
    results = await asyncio.wait_for(asyncio.gather(*waiters), 20)
    assert all(r.timed_out is False and r.count == 1 for r in results)


async def test_waiters_per_agent_are_bounded(tmp_path: Path) -> None:
    async with open_services(make_settings(tmp_path / "d", max_waiters_per_agent=2)) as app:
        alice = agent("alice")
        sid = (await app.sessions.create(alice, "wait", None)).session_id
        waits = app.coordination.waits
        held = [asyncio.create_task(waits.wait(alice, sid, 0, 30)) for _ in range(2)]
        await started(app, 2)
        with pytest.raises(SharedContextError) as info:
            await waits.wait(alice, sid, 0, 1)
        assert info.value.code.value == "RATE_LIMITED"
        # Other agents are not affected.
        other = await waits.wait(agent("bob"), sid, 0, 0)
        assert other.timed_out is True
        await app.messages.add(alice, sid, "release")
        await asyncio.wait_for(asyncio.gather(*held), 5)
        assert waits.waiters == 0


@pytest.mark.parametrize("timeout", [-1, 61, float("nan"), "5", True])
async def test_bad_timeouts(services: Services, timeout: object) -> None:
    alice = agent("alice")
    sid = (await services.sessions.create(alice, "wait", None)).session_id
    with pytest.raises(SharedContextError) as info:
        await services.coordination.waits.wait(alice, sid, 0, timeout)  # type: ignore[arg-type]
    assert info.value.code.value == "INVALID_INPUT"


async def test_missing_session_and_tool_path(client: Client) -> None:
    token = await login(client, "alice")
    missing = await fail(
        client,
        "wait_for_messages",
        session_id="session_0000000000000000",
        after_id=0,
        timeout_seconds=0,
        auth_token=token,
    )
    assert missing["code"] == "SESSION_NOT_FOUND"
    sid = (await call(client, "create_session", purpose="p", auth_token=token))["session_id"]
    quick = await call(
        client,
        "wait_for_messages",
        session_id=sid,
        after_id=0,
        timeout_seconds=0.3,
        auth_token=token,
    )
    assert quick["timed_out"] is True and quick["messages"] == []
    bad = await fail(
        client, "wait_for_messages", session_id=sid, timeout_seconds=61, auth_token=token
    )
    assert bad["code"] == "INVALID_INPUT"
