"""The subscription hub's fan-out: visibility per subscriber, expiry, isolation, limits."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import anyio
import pytest
from mcp import Client as SdkClient
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from pydantic import SecretStr

from shared_context.bootstrap import build_subscription_hub, open_services
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS
from shared_context.events.bus import Event, EventKind
from shared_context.mcp.listen_queue import ListenQueue
from shared_context.mcp.server import build_mcp
from shared_context.mcp.subscriptions import Subscriber
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY


def agent(name: str, kind: str, *, admin: bool = False, expires_at: float = 0.0) -> Principal:
    perms = ALL_PERMISSIONS if admin else AGENT_CEILING
    return Principal(name, kind, perms, expires_at=expires_at)


async def test_fan_out_follows_visibility(services: Services) -> None:
    hub = build_subscription_hub(services)
    alice, bob = agent("alice", "claude"), agent("bob", "gemini")
    carl, root = agent("carl", "claude"), agent("root", "ops", admin=True)
    sid = (await services.sessions.create(alice, "hub", None)).session_id
    uri = f"session://{sid}"
    got: dict[str, list[str]] = {p.agent_id: [] for p in (alice, bob, carl, root)}
    for p in (alice, bob, carl, root):
        hub.add(p.agent_id, Subscriber(p, {uri}, got[p.agent_id].append, "2026-07-28"))
    hub.add("elsewhere", Subscriber(bob, {"session://other"}, got["bob"].append, "x"))
    assert hub.count == 5

    def who() -> set[str]:
        names = {name for name, uris in got.items() if uris}
        for uris in got.values():
            uris.clear()
        return names

    await services.messages.add(alice, sid, "everyone")
    assert who() == {"alice", "bob", "carl", "root"}
    private = await services.messages.add(alice, sid, "mine", "private")
    assert who() == {"alice"}
    await services.messages.add(alice, sid, "claudes", "agent_only")
    assert who() == {"alice", "carl"}
    await services.messages.add(root, sid, "admins", "admin_only")
    assert who() == {"root"}
    # Private → public: everyone may now see it. Public → agent_only: bob saw it before.
    await services.messages.set_visibility(alice, sid, private.message_id, "public")
    assert who() == {"alice", "bob", "carl", "root"}
    await services.messages.set_visibility(alice, sid, private.message_id, "agent_only")
    assert who() == {"alice", "bob", "carl", "root"}
    await services.messages.set_visibility(alice, sid, private.message_id, "private")
    assert who() == {"alice", "carl"}  # it was agent_only: only claudes could see it
    # Events that do not change the resource, or carry no message, notify nobody.
    services.bus.publish(Event(EventKind.LOCK_CHANGED, session_id=sid))
    services.bus.publish(Event(EventKind.MESSAGE_ADDED, session_id=sid, data={}))
    services.bus.publish(Event(EventKind.MESSAGE_ADDED, session_id=None))
    assert who() == set()
    await services.sessions.close(alice, sid)
    assert who() == {"alice", "bob", "carl", "root"}
    assert hub.notifications_suppressed > 0
    hub.remove("alice")
    assert hub.count == 4


async def test_expired_identity_is_dropped_and_failures_are_isolated(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    hub = build_subscription_hub(services)
    alice = agent("alice", "claude")
    sid = (await services.sessions.create(alice, "hub", None)).session_id
    uri = f"session://{sid}"
    stale = agent("old", "claude", expires_at=services.clock.now() - 1)
    got: list[str] = []

    def broken(_: str) -> None:
        raise RuntimeError("transport gone")

    hub.add("stale", Subscriber(stale, {uri}, got.append, "2025-11-25"))
    hub.add("broken", Subscriber(alice, {uri}, broken, "2025-11-25"))
    hub.add("fine", Subscriber(alice, {uri}, got.append, "2025-11-25"))
    with caplog.at_level(logging.ERROR):
        await services.messages.add(alice, sid, "hello")
    assert got == [uri]
    assert hub.count == 2  # the stale subscriber is gone
    assert "subscription delivery failed" in caplog.text
    assert hub.notifications_sent == 1


async def test_listen_queue_dedupes_bounds_and_ends() -> None:
    queue = ListenQueue("sub-1", 2)
    queue.deliver("a")
    queue.deliver("a")  # coalesced: still pending
    queue.deliver("b")
    assert [await queue.__anext__(), await queue.__anext__()] == ["a", "b"]
    queue.deliver("a")  # taken off the queue, so it is queued again
    queue.deliver("c")
    queue.deliver("d")  # over the cap: the stream is ended
    queue.deliver("e")  # after closing: ignored
    assert [uri async for uri in queue] == ["a", "c"]
    queue.close()
    ending = ListenQueue("sub-2", 4)
    ending.deliver("x")
    ending.end()  # graceful: what is queued is still delivered
    assert [uri async for uri in ending] == ["x"]
    ending.close()


async def test_listen_limits_over_the_in_process_client(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", max_subscriptions=1)
    async with open_services(settings) as app:
        body = await app.auth.authenticate("lister", "claude", AGENT_KEY, ["read", "write"])
        app.settings.agent_token = SecretStr(body.token)
        owner = await app.auth.resolve(body.token)
        one = (await app.sessions.create(owner, "1", None)).session_id
        two = (await app.sessions.create(owner, "2", None)).session_id
        server = build_mcp(app)
        async with SdkClient(server._mcp_server, mode="2026-07-28") as client:
            with pytest.raises(MCPError, match="limit"):
                async with client.listen(
                    resource_subscriptions=[f"session://{one}", f"session://{two}"]
                ):
                    pass
            many = [f"session://session_{i:016x}" for i in range(101)]
            with pytest.raises(MCPError, match="Too many"):
                async with client.listen(resource_subscriptions=many):
                    pass
            async with client.listen(resource_subscriptions=[f"session://{one}"]) as sub:
                assert sub.honored.resource_subscriptions == [f"session://{one}"]
                await app.messages.add(owner, one, "hi")
                with anyio.fail_after(5):
                    event = await anext(aiter(sub))
                assert str(event.uri) == f"session://{one}"  # type: ignore[union-attr]


async def test_legacy_subscribe_over_the_in_process_client(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", max_subscriptions=2)
    async with open_services(settings) as app:
        body = await app.auth.authenticate("sub", "claude", AGENT_KEY, ["read", "write"])
        app.settings.agent_token = SecretStr(body.token)
        owner = await app.auth.resolve(body.token)
        sids = [(await app.sessions.create(owner, str(i), None)).session_id for i in range(3)]
        server = build_mcp(app)
        async with SdkClient(server._mcp_server, mode="legacy") as client:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await client.subscribe_resource(f"session://{sids[0]}")
                await client.subscribe_resource(f"session://{sids[0]}")  # idempotent
                await client.subscribe_resource(f"session://{sids[1]}")
                with pytest.raises(MCPError, match="limit"):
                    await client.subscribe_resource(f"session://{sids[2]}")
                await client.unsubscribe_resource(f"session://{sids[0]}")
                await client.unsubscribe_resource(f"session://{sids[1]}")
                await client.subscribe_resource(f"session://{sids[2]}")
