"""SPEC §19: subscriptions, waits and streams re-check identity; quotas per agent and per
connection (issue 12). Each test reproduces a reported attack and asserts the fixed
behaviour."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client as SdkClient
from mcp.client.subscriptions import SubscriptionLost
from mcp.shared.exceptions import MCPError
from pydantic import SecretStr

from shared_context.bootstrap import build_subscription_hub, open_services
from shared_context.domain.errors import AuthError, ErrorCode
from shared_context.mcp.server import build_mcp
from shared_context.mcp.subscriptions import (
    AUTH_ERROR_CODE,
    RATE_LIMITED_CODE,
    Subscriber,
)
from shared_context.services.container import Services
from shared_context.storage.sqlite.store import SqliteStore
from tests.conftest import make_settings
from tests.e2e.live import serve_http, token_for
from tests.security import rawmcp


async def until(predicate: object, what: str, seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_a_subscription_stops_when_its_token_is_refreshed(services: Services) -> None:
    hub = build_subscription_hub(services)
    token = await token_for(services, "alice")
    alice = await services.auth.resolve(token)
    sid = (await services.sessions.create(alice, "s", None)).session_id
    uri = f"session://{sid}"
    got: list[str] = []
    hub.add("alice", Subscriber(alice, {uri}, got.append, "2025-11-25"))
    await services.messages.add(alice, sid, "before")
    await until(lambda: len(got) == 1, "the first notification")
    await services.auth.refresh(alice)  # the subscribed token is now revoked
    poster = await services.auth.resolve(await token_for(services, "bob"))
    await services.messages.add(poster, sid, "after")
    await until(lambda: hub.revoked_dropped == 1, "the revoked subscriber to be dropped")
    assert got == [uri]  # nothing after the revocation
    assert hub.count == 0
    await services.messages.add(poster, sid, "later")
    assert got == [uri]


async def test_a_subscription_stops_when_its_key_is_revoked_elsewhere(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", revocation_recheck_seconds=0)
    async with open_services(settings) as app:
        hub = build_subscription_hub(app)
        alice = await app.auth.resolve(await token_for(app, "alice"))
        sid = (await app.sessions.create(alice, "s", None)).session_id
        got: list[str] = []
        hub.add("alice", Subscriber(alice, {f"session://{sid}"}, got.append, "2025-11-25"))
        await app.messages.add(alice, sid, "before")
        await until(lambda: len(got) == 1, "the first notification")
        store = app.store
        assert isinstance(store, SqliteStore)
        other = sqlite3.connect(store.path)  # `scs keys revoke` in another process
        other.execute("UPDATE api_keys SET revoked_at = 1 WHERE name LIKE 'env:agent:%'")
        other.commit()
        other.close()
        admin = await app.auth.authenticate(
            "root", "ops", "test-admin-key-0123456789abcdef", ["read", "write", "admin"]
        )
        await app.messages.add(await app.auth.resolve(admin.token), sid, "after")
        await until(lambda: hub.revoked_dropped == 1, "the revoked subscriber to be dropped")
        assert len(got) == 1


async def test_a_listen_stream_ends_with_an_auth_error_when_its_token_is_revoked(
    tmp_path: Path,
) -> None:
    async with open_services(make_settings(tmp_path / "d")) as app:
        token = await token_for(app, "lister")
        app.settings.agent_token = SecretStr(token)
        owner = await app.auth.resolve(token)
        sid = (await app.sessions.create(owner, "1", None)).session_id
        server = build_mcp(app)
        async with SdkClient(server._mcp_server, mode="2026-07-28") as client:
            with pytest.raises(BaseException) as ended:
                async with client.listen(resource_subscriptions=[f"session://{sid}"]) as sub:
                    await app.messages.add(owner, sid, "hi")
                    with anyio.fail_after(5):
                        first = await anext(aiter(sub))
                    assert str(first.uri) == f"session://{sid}"  # type: ignore[union-attr]
                    await app.auth.refresh(owner)
                    await app.messages.add(owner, sid, "after revocation")
                    with anyio.fail_after(5):
                        async for event in sub:
                            raise AssertionError(f"delivered after revocation: {event}")
            leaves = list(_leaves(ended.value))
            assert not [e for e in leaves if isinstance(e, AssertionError)], leaves
            # The stream ended: the SDK client reports it as lost (the server answered the
            # listen request with an AUTH_ERROR_CODE error instead of a graceful result).
            assert any(
                isinstance(e, SubscriptionLost)
                or (isinstance(e, MCPError) and e.code == AUTH_ERROR_CODE)
                for e in leaves
            ), leaves


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


async def test_a_wait_stops_when_its_token_is_revoked(services: Services) -> None:
    token = await token_for(services, "waiter")
    waiter = await services.auth.resolve(token)
    sid = (await services.sessions.create(waiter, "w", None)).session_id
    waits = services.coordination.waits
    waiting = asyncio.create_task(waits.wait(waiter, sid, after_id=0, timeout_seconds=30))
    await until(lambda: waits.waiters == 1, "the waiter to start")
    await services.auth.refresh(waiter)
    poster = await services.auth.resolve(await token_for(services, "poster"))
    await services.messages.add(poster, sid, "for a revoked waiter")
    with pytest.raises(AuthError) as refused:
        await asyncio.wait_for(waiting, 10)
    assert refused.value.code is ErrorCode.TOKEN_INVALID


async def test_waiters_are_bounded_per_connection(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", max_waiters_per_connection=2)
    async with open_services(settings) as app:
        owner = await app.auth.resolve(await token_for(app, "o"))
        sid = (await app.sessions.create(owner, "w", None)).session_id
        waits = app.coordination.waits
        agents = [await app.auth.resolve(await token_for(app, f"a{i}")) for i in range(3)]
        tasks = [
            asyncio.create_task(waits.wait(a, sid, 0, 30, connection="conn-1")) for a in agents[:2]
        ]
        await until(lambda: waits.waiters == 2, "two waiters")
        with pytest.raises(Exception) as limited:
            await waits.wait(agents[2], sid, 0, 0, connection="conn-1")
        assert getattr(limited.value, "code", None) is ErrorCode.RATE_LIMITED
        other = await waits.wait(agents[2], sid, 0, 0, connection="conn-2")
        assert other.timed_out is True
        await app.messages.add(owner, sid, "release")
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


async def test_a_hog_with_eleven_agents_cannot_take_every_subscription_slot(
    tmp_path: Path,
) -> None:
    """The reported attack over real HTTP: one MCP session, eleven self-minted agent ids,
    subscribing until refused. The refusal is RATE_LIMITED with a code that is not -32603,
    and another client still subscribes."""
    settings = make_settings(
        tmp_path / "d",
        max_subscriptions=60,
        max_subscriptions_per_agent=4,
        max_subscriptions_per_connection=8,
    )
    async with open_services(settings) as app, serve_http(app) as url:
        owner = await app.auth.resolve(await token_for(app, "owner"))
        sids = [(await app.sessions.create(owner, str(i), None)).session_id for i in range(6)]
        tokens = [await token_for(app, f"hog{i}") for i in range(11)]
        async with httpx2.AsyncClient(timeout=30) as http:
            _, session = await rawmcp.initialize(http, url, tokens[0])
            assert session
            held, refusals = 0, []
            for token in tokens:
                for sid in sids:
                    _, body = await rawmcp.rpc(
                        http,
                        url,
                        "resources/subscribe",
                        {"uri": f"session://{sid}"},
                        token=token,
                        session=session,
                    )
                    assert body is not None
                    if "error" in body:
                        refusals.append(body["error"])
                    else:
                        held += 1
            assert held == 8  # the connection's share, not the server's 60
            assert refusals
            for error in refusals:
                assert error["code"] == RATE_LIMITED_CODE
                assert error["code"] != -32603
                assert error["data"]["code"] == "RATE_LIMITED"
            victim = await token_for(app, "victim")
            _, other = await rawmcp.initialize(http, url, victim)
            _, ok = await rawmcp.rpc(
                http,
                url,
                "resources/subscribe",
                {"uri": f"session://{sids[0]}"},
                token=victim,
                session=other,
            )
            assert ok is not None
            assert "result" in ok, ok


async def test_many_connections_of_one_hog_are_held_to_a_share_each(services: Services) -> None:
    """Eleven agents on eleven connections: per-agent shares keep them below the total."""
    hub = build_subscription_hub(services)
    settings = services.settings
    per_agent = settings.max_subscriptions_per_agent
    assert 11 * per_agent < settings.max_subscriptions  # the defaults leave room for others
    for i in range(11):
        principal = await services.auth.resolve(await token_for(services, f"hog{i}"))
        uris = {f"session://session_{n:016x}" for n in range(per_agent)}
        hub.add(f"hog{i}", Subscriber(principal, uris, lambda _: None, "x", f"c{i}"))
        with pytest.raises(MCPError) as refused:
            hub.add(
                f"hog{i}-more",
                Subscriber(principal, {"session://session_ffffffffffffffff"}, print, "x", "c"),
            )
        assert refused.value.code == RATE_LIMITED_CODE
    victim = await services.auth.resolve(await token_for(services, "victim"))
    hub.add("victim", Subscriber(victim, {"session://session_0000000000000001"}, print, "x"))
    assert hub.count == 11 * per_agent + 1
