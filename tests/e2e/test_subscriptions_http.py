"""session:// subscriptions over real Streamable HTTP with the official MCP SDK client.

Both protocol eras: 2025-11-25 (``resources/subscribe`` + notifications on the GET stream)
and 2026-07-28 (``subscriptions/listen``). "Nothing is sent" for a change the subscriber may
not see is shown by order, not by sleeping: the subscriber also watches a second session, the
hidden change is made first and a visible marker change second; the first notification the
subscriber receives must be the marker's (each subscriber's notifications are delivered in
order on one stream).
"""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

import mcp.types as mt
import pytest
import uvicorn
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from shared_context.bootstrap import build_http_app
from shared_context.cli.serving import _Server
from shared_context.domain.models import Principal
from shared_context.services.container import Services
from tests.e2e.live import sdk_client, serve_http, token_for


async def subscribe(client: Client, uri: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.subscribe_resource(uri)


async def unsubscribe(client: Client, uri: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.unsubscribe_resource(uri)


class Inbox:
    """Collects notifications/resources/updated URIs delivered through message_handler."""

    def __init__(self) -> None:
        self.uris: asyncio.Queue[str] = asyncio.Queue()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, mt.ResourceUpdatedNotification):
            self.uris.put_nowait(str(message.params.uri))

    async def next(self) -> str:
        return await asyncio.wait_for(self.uris.get(), 10)


async def prime(app: Services, poster: Principal, marker: str, inbox: Inbox) -> None:
    """The GET stream opens asynchronously after the handshake: post to the marker session
    until the first notification arrives (bounded), then drain."""
    for attempt in range(40):
        await app.messages.add(poster, marker.removeprefix("session://"), f"prime {attempt}")
        try:
            assert await asyncio.wait_for(inbox.uris.get(), 0.25) == marker
            break
        except TimeoutError:
            continue
    else:
        raise AssertionError("the standalone stream never delivered")
    while not inbox.uris.empty():
        inbox.uris.get_nowait()


async def two_sessions(app: Services, owner: Principal) -> tuple[str, str]:
    a = (await app.sessions.create(owner, "watched", None)).session_id
    b = (await app.sessions.create(owner, "marker", None)).session_id
    return a, b


async def test_legacy_subscribe_notifies_only_visible_changes(services: Services) -> None:
    async with serve_http(services) as url:
        alice_token = await token_for(services, "alice", "claude")
        bob_token = await token_for(services, "bob", "gemini")
        alice = await services.auth.resolve(alice_token)
        sid, marker_sid = await two_sessions(services, alice)
        watched, marker = f"session://{sid}", f"session://{marker_sid}"
        inbox = Inbox()
        async with sdk_client(url, bob_token, mode="legacy", message_handler=inbox) as bob:
            assert bob.protocol_version == "2025-11-25"
            assert bob.server_capabilities.resources is not None
            assert bob.server_capabilities.resources.subscribe is True
            await subscribe(bob, watched)
            await subscribe(bob, marker)
            await prime(services, alice, marker, inbox)

            await services.messages.add(alice, sid, "hello bob")
            assert await inbox.next() == watched
            body = json.loads((await bob.read_resource(watched)).contents[0].text)  # type: ignore[union-attr]
            assert [m["content"] for m in body["messages"]] == ["hello bob"]

            # Hidden from bob: alice's private note and a claude-only note send nothing.
            secret = await services.messages.add(alice, sid, "secret", "private")
            await services.messages.add(alice, sid, "claudes only", "agent_only")
            await services.messages.add(alice, marker_sid, "marker 1")
            assert await inbox.next() == marker

            # The private note becoming public is a change bob may see.
            await services.messages.set_visibility(alice, sid, secret.message_id, "public")
            assert await inbox.next() == watched

            await unsubscribe(bob, watched)
            await services.messages.add(alice, sid, "after unsubscribe")
            await services.messages.add(alice, marker_sid, "marker 2")
            assert await inbox.next() == marker


async def test_listen_notifies_only_visible_changes(services: Services) -> None:
    async with serve_http(services) as url:
        alice_token = await token_for(services, "alice", "claude")
        bob_token = await token_for(services, "bob", "gemini")
        alice = await services.auth.resolve(alice_token)
        sid, marker_sid = await two_sessions(services, alice)
        watched, marker = f"session://{sid}", f"session://{marker_sid}"
        async with sdk_client(url, bob_token) as bob:
            assert bob.protocol_version == "2026-07-28"
            assert bob.server_capabilities.resources is not None
            assert bob.server_capabilities.resources.subscribe is True
            async with bob.listen(resource_subscriptions=[watched, marker]) as sub:
                assert sub.honored.resource_subscriptions == [watched, marker]
                events = aiter(sub)

                async def next_uri() -> str:
                    event = await asyncio.wait_for(anext(events), 10)
                    return str(event.uri)  # type: ignore[union-attr]

                await services.messages.add(alice, sid, "hello bob")
                assert await next_uri() == watched
                await services.messages.add(alice, sid, "secret", "private")
                await services.messages.add(alice, marker_sid, "marker")
                assert await next_uri() == marker
                await services.sessions.close(alice, sid)
                assert await next_uri() == watched
                # Shutdown ends listen streams gracefully: the iteration simply finishes.
                services.coordination.end_streams()
                rest = [event async for event in sub]
                assert rest == []


async def test_subscriptions_need_identity_and_a_real_session(services: Services) -> None:
    async with serve_http(services) as url:
        token = await token_for(services, "carol")
        owner = await services.auth.resolve(token)
        sid = (await services.sessions.create(owner, "x", None)).session_id
        async with sdk_client(url, None, mode="legacy") as anonymous:
            with pytest.raises(MCPError) as info:
                await subscribe(anonymous, f"session://{sid}")
            assert "AUTH_REQUIRED" in str(info.value.error.data)
        async with sdk_client(url, token, mode="legacy") as carol:
            for uri in ("session://session_0000000000000000", "agent://carol/memory"):
                with pytest.raises(MCPError):
                    await subscribe(carol, uri)
        async with sdk_client(url, None) as anonymous:
            with pytest.raises(MCPError):
                async with anonymous.listen(resource_subscriptions=[f"session://{sid}"]):
                    pass
        async with sdk_client(url, None) as anonymous:
            with pytest.raises(MCPError):
                await anonymous.read_resource(f"session://{sid}")


async def test_http_server_ends_listen_streams_as_shutdown_begins(services: Services) -> None:
    server = _Server(
        uvicorn.Config(build_http_app(services), host="127.0.0.1", port=0, log_level="warning"),
        before_shutdown=services.coordination.end_streams,
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/mcp"
    token = await token_for(services, "dora")
    sid = (await services.sessions.create(await services.auth.resolve(token), "x", None)).session_id
    async with sdk_client(url, token) as client:
        async with client.listen(resource_subscriptions=[f"session://{sid}"]) as sub:
            server.should_exit = True
            ended = [event async for event in sub]  # graceful end, not SubscriptionLost
            assert ended == []
        await asyncio.wait_for(task, 5)  # well inside the 10 s graceful timeout
