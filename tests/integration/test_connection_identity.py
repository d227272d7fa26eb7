"""Connection identity over real Streamable HTTP (SPEC §16): X-API-Key + X-Agent-Id +
X-Agent-Type (+ X-Agent-Permissions) authenticate every request on the connection, with no
token ever handled by the agent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from shared_context.bootstrap import open_services
from shared_context.domain.errors import AuthError
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING, Permission
from shared_context.services.container import Services
from shared_context.services.identity import credentials_from_headers
from tests.conftest import make_settings
from tests.e2e.live import sdk_call, serve_http, token_for
from tests.helpers import ADMIN_KEY, AGENT_KEY


def identity(agent_id: str | None, agent_type: str = "claude", key: str | None = AGENT_KEY,
             permissions: str | None = None) -> dict[str, str]:  # fmt: skip
    headers: dict[str, str] = {}
    if key is not None:
        headers["X-API-Key"] = key
    if agent_id is not None:
        headers["X-Agent-Id"] = agent_id
        headers["X-Agent-Type"] = agent_type
    if permissions is not None:
        headers["X-Agent-Permissions"] = permissions
    return headers


@asynccontextmanager
async def connect(url: str, headers: dict[str, str], **kwargs: Any) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http,
        Client(streamable_http_client(url, http_client=http), **kwargs) as client,
    ):
        yield client


async def ok(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    body = await sdk_call(client, tool, **args)
    assert body["success"] is True, body
    return body


async def refused(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    body = await sdk_call(client, tool, **args)
    assert body["success"] is False, body
    return body


async def audit_logins(services: Services, agent_id: str) -> int:
    admin = Principal("auditor", "ops", frozenset({Permission.READ, Permission.ADMIN}))
    body = await services.audit_log.get_log(admin, agent_id=agent_id, event_type="authenticate")
    return int(body.count)


async def test_headers_alone_carry_the_agent_everywhere(services: Services) -> None:
    async with (
        serve_http(services) as url,
        connect(url, identity("alice", "claude")) as alice,
        connect(url, identity("bob", "gemini")) as bob,
    ):
        sid = (await ok(alice, "create_session", purpose="headers only"))["session_id"]
        await ok(alice, "add_message", session_id=sid, content="hello team")
        await ok(alice, "add_message", session_id=sid, content="alice secret", visibility="private")
        mine = (await ok(alice, "get_messages", session_id=sid))["messages"]
        assert [(m["sender"], m["sender_type"], m["content"]) for m in mine] == [
            ("alice", "claude", "hello team"),
            ("alice", "claude", "alice secret"),
        ]
        theirs = (await ok(bob, "get_messages", session_id=sid))["messages"]
        assert [m["content"] for m in theirs] == ["hello team"]
        found = (await ok(alice, "search_context", session_id=sid, query="secret"))["results"]
        assert found and all(r["message"]["sender"] == "alice" for r in found)
        assert (await ok(bob, "search_context", session_id=sid, query="secret"))["results"] == []

        await ok(alice, "set_memory", key="plan", value={"step": 1})
        assert (await ok(alice, "get_memory", key="plan"))["value"] == {"step": 1}
        assert (await refused(bob, "get_memory", key="plan"))["code"] == "MEMORY_NOT_FOUND"

        # Resources take no arguments: the connection identity reads them.
        body = json.loads((await alice.read_resource(f"session://{sid}")).contents[0].text)  # type: ignore[union-attr]
        assert [m["content"] for m in body["messages"]] == ["hello team", "alice secret"]
        memory = json.loads((await alice.read_resource("agent://alice/memory")).contents[0].text)  # type: ignore[union-attr]
        assert "plan" in json.dumps(memory)
        with pytest.raises(MCPError):
            await bob.read_resource("agent://alice/memory")

        # Subscriptions (protocol 2026-07-28: listen) use the same identity, filtered by it.
        async with bob.listen(resource_subscriptions=[f"session://{sid}"]) as sub:
            events = aiter(sub)
            await ok(
                alice, "add_message", session_id=sid, content="private 2", visibility="private"
            )
            await ok(alice, "add_message", session_id=sid, content="for all")
            event = await asyncio.wait_for(anext(events), 10)
            assert str(event.uri) == f"session://{sid}"  # type: ignore[union-attr]
            latest = json.loads((await bob.read_resource(f"session://{sid}")).contents[0].text)  # type: ignore[union-attr]
            assert [m["content"] for m in latest["messages"]] == ["hello team", "for all"]

        # Each identity is audited once, like a login, not once per call.
        assert await audit_logins(services, "alice") == 1
        assert await audit_logins(services, "bob") == 1


async def test_auth_token_overrides_the_connection_identity(services: Services) -> None:
    carol = await token_for(services, "carol", "codex")
    async with serve_http(services) as url, connect(url, identity("alice")) as shared:
        sid = (await ok(shared, "create_session", purpose="sub-agents"))["session_id"]
        await ok(shared, "add_message", session_id=sid, content="from the connection")
        await ok(shared, "add_message", session_id=sid, content="from carol", auth_token=carol)
        await ok(shared, "set_memory", key="k", value="carol's", auth_token=carol)
        messages = (await ok(shared, "get_messages", session_id=sid))["messages"]
        assert [(m["sender"], m["sender_type"]) for m in messages] == [
            ("alice", "claude"),
            ("carol", "codex"),
        ]
        assert (await refused(shared, "get_memory", key="k"))["code"] == "MEMORY_NOT_FOUND"
        assert (await ok(shared, "get_memory", key="k", auth_token=carol))["value"] == "carol's"
        # refresh_token on a connection identity hands out a token for it (nothing revoked).
        minted = await ok(shared, "refresh_token")
        assert minted["agent_id"] == "alice" and minted["token"]
        await ok(shared, "list_sessions")
    # A bearer token beats the headers too.
    headers = {**identity("alice"), "Authorization": f"Bearer {carol}"}
    async with serve_http(services) as url, connect(url, headers) as both:
        sid = (await ok(both, "create_session", purpose="bearer wins"))["session_id"]
        session = await ok(both, "get_session", session_id=sid)
        assert session["session"]["created_by"] == "carol"


async def test_refusals_name_what_is_wrong(services: Services) -> None:
    async with serve_http(services) as url:
        async with connect(url, identity("alice", key="not-a-real-key")) as wrong:
            assert (await refused(wrong, "list_sessions"))["code"] == "INVALID_API_KEY"
            with pytest.raises(MCPError) as info:
                await wrong.read_resource("agent://alice/memory")
            assert "INVALID_API_KEY" in str(info.value)
        async with connect(url, identity(None)) as keyless_agent:
            body = await refused(keyless_agent, "list_sessions")
            assert body["code"] == "AUTH_REQUIRED"
            assert "X-Agent-Id header" in body["message"]
        async with connect(url, {"X-Agent-Id": "alice"}) as no_key:
            body = await refused(no_key, "list_sessions")
            assert body["code"] == "INVALID_API_KEY"
            assert "X-API-Key header" in body["message"]
        async with connect(url, identity("bad id!")) as bad:
            assert (await refused(bad, "list_sessions"))["code"] == "INVALID_INPUT"
        async with connect(url, {}) as nobody:
            body = await refused(nobody, "list_sessions")
            assert body["code"] == "AUTH_REQUIRED"
            assert "X-Agent-Id" in body["message"] and "auth_token" in body["message"]


async def test_permissions_are_capped_by_the_key(services: Services) -> None:
    async with serve_http(services) as url:
        async with connect(url, identity("alice", permissions="read,write,admin")) as agent:
            sid = (await ok(agent, "create_session", purpose="caps"))["session_id"]
            body = await refused(
                agent, "add_message", session_id=sid, content="x", visibility="admin_only"
            )
            assert body["code"] == "PERMISSION_DENIED"
        async with connect(url, identity("reader", permissions="read")) as reader:
            assert (await refused(reader, "create_session", purpose="x"))["code"] == (
                "PERMISSION_DENIED"
            )
            await ok(reader, "get_messages", session_id=sid)
        admin_headers = identity("root", "ops", key=ADMIN_KEY, permissions="read,write,admin")
        async with connect(url, admin_headers) as admin:
            await ok(admin, "add_message", session_id=sid, content="ops", visibility="admin_only")


async def test_a_revoked_key_stops_its_connections(services: Services) -> None:
    key, plain = await services.auth.keys.create("temp", AGENT_CEILING)
    async with serve_http(services) as url, connect(url, identity("tina", key=plain)) as tina:
        await ok(tina, "list_sessions")
        held = await services.auth.identify(
            credentials_from_headers({k.lower(): v for k, v in identity("tina", key=plain).items()})
        )
        assert held.token_id.startswith("connection:")  # no token, but a revocable identity
        assert await services.store.token_revocation(held.token_id, held.key_id) == (False, False)
        await services.auth.keys.revoke(key.key_id)
        assert (await refused(tina, "list_sessions"))["code"] == "INVALID_API_KEY"
        # Long-lived holders (subscriptions) re-check a held identity the same way as tokens.
        assert await services.store.token_revocation(held.token_id, held.key_id) == (False, True)


async def test_a_key_revoked_by_another_process_stops_its_connections_at_once(
    tmp_path: Path,
) -> None:
    """Two stacks on one SQLite file (as two processes): a key revoked through one (e.g.
    ``scs keys revoke``) is refused by the other on its next request, not after a delay."""
    data = tmp_path / "data"
    slow = {"change_poll_seconds": 1.0, "revocation_recheck_seconds": 60.0}
    async with open_services(make_settings(data, **slow)) as one:
        _, plain = await one.auth.keys.create("temp", AGENT_CEILING)
        creds = credentials_from_headers(
            {k.lower(): v for k, v in identity("tina", key=plain).items()}
        )
        async with open_services(make_settings(data, **slow)) as two:
            assert (await two.auth.identify(creds)).agent_id == "tina"  # remembered for 60 s
            await one.auth.keys.revoke("temp")
            with pytest.raises(AuthError) as refused:
                await two.auth.identify(creds)
            assert refused.value.code == "INVALID_API_KEY"


async def test_legacy_subscriptions_use_the_connection_identity(services: Services) -> None:
    """Protocol 2025-11-25: resources/subscribe with only the connection headers."""
    import warnings

    import mcp.types as mt
    from mcp.shared.exceptions import MCPDeprecationWarning

    updates: asyncio.Queue[str] = asyncio.Queue()

    async def inbox(message: object) -> None:
        if isinstance(message, mt.ResourceUpdatedNotification):
            updates.put_nowait(str(message.params.uri))

    async with serve_http(services) as url, connect(url, identity("alice")) as alice:
        sid = (await ok(alice, "create_session", purpose="legacy"))["session_id"]
        async with connect(url, identity("bob", "gemini"), mode="legacy",
                           message_handler=inbox) as bob:  # fmt: skip
            assert bob.protocol_version == "2025-11-25"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await bob.subscribe_resource(f"session://{sid}")
            # The notification stream opens asynchronously: post until one arrives (bounded).
            for attempt in range(40):
                await ok(alice, "add_message", session_id=sid, content=f"public {attempt}")
                try:
                    assert await asyncio.wait_for(updates.get(), 0.25) == f"session://{sid}"
                    break
                except TimeoutError:
                    continue
            else:
                raise AssertionError("no notification reached the header-identified subscriber")
        async with connect(url, identity("bob", key="wrong-key-0123456789"), mode="legacy") as bad:
            with pytest.raises(MCPError) as info, warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await bad.subscribe_resource(f"session://{sid}")
            assert info.value.error.data["code"] == "INVALID_API_KEY"
