"""Memory is private: agents never see or overwrite each other's entries, whatever the key
looks like, and admins get no exception."""

from __future__ import annotations

import random
import unicodedata

import httpx
import pytest
from fastmcp import Client
from mcp import MCPError

from shared_context.domain.errors import NotFound
from shared_context.services.container import Services
from tests.helpers import call, fail, login
from tests.memory_support import memory_rows, principal, resource_json, serve_http

LOOKALIKES = [
    unicodedata.normalize("NFC", "café"),
    unicodedata.normalize("NFD", "café"),
    "Café",
    "CAFÉ",
    "caf\u200bé",
    "café\u200d",
    "\ufeffcafé",
    "cafe",
    "ｃａｆé",  # fullwidth
]


async def test_same_key_in_both_scopes_is_private_per_agent(client: Client) -> None:
    alice = await login(client, "alice")
    bob = await login(client, "bob")
    sid = (await call(client, "create_session", purpose="shared", auth_token=alice))["session_id"]
    for token, who in ((alice, "alice"), (bob, "bob")):
        for scope in (None, sid):
            args = {"session_id": scope} if scope else {}
            stored = await call(
                client, "set_memory", key="plan", value=f"{who}:{scope}", auth_token=token, **args
            )
            assert stored["version"] == 1  # bob's write created his own entry
    for token, who in ((alice, "alice"), (bob, "bob")):
        for scope in (None, sid):
            args = {"session_id": scope} if scope else {}
            got = await call(client, "get_memory", key="plan", auth_token=token, **args)
            assert got["value"] == f"{who}:{scope}"
        listed = await call(client, "list_memory", session_id="all", auth_token=token)
        assert len(listed["entries"]) == 2
    # Bob deleting and overwriting touches only his own entries.
    await call(client, "delete_memory", key="plan", auth_token=bob)
    refused = await fail(client, "delete_memory", key="plan", auth_token=bob)
    assert refused["code"] == "MEMORY_NOT_FOUND"
    assert (await call(client, "get_memory", key="plan", auth_token=alice))["value"] == (
        "alice:None"
    )
    bob_create = await call(
        client, "set_memory", key="plan", value="b2", overwrite=False, auth_token=bob
    )
    assert bob_create["version"] == 1
    stale = await fail(client, "set_memory", key="plan", value="x", if_version=0, auth_token=bob)
    assert stale["code"] == "VERSION_CONFLICT"
    assert (await call(client, "get_memory", key="plan", auth_token=alice))["version"] == 1


async def test_admin_cannot_read_other_agents_memory(client: Client) -> None:
    alice = await login(client, "alice")
    root = await login(client, "root", "ops", admin=True)
    await call(client, "set_memory", key="secret", value="alice only", auth_token=alice)
    missing = await fail(client, "get_memory", key="secret", auth_token=root)
    assert missing["code"] == "MEMORY_NOT_FOUND"
    listed = await call(client, "list_memory", session_id="all", auth_token=root)
    assert listed["entries"] == []
    assert (await fail(client, "delete_memory", key="secret", auth_token=root))["code"] == (
        "MEMORY_NOT_FOUND"
    )


async def test_lookalike_keys_are_distinct_and_never_cross_owners(
    client: Client, services: Services
) -> None:
    assert len(set(LOOKALIKES)) == len(LOOKALIKES)
    alice = await login(client, "alice")
    bob = await login(client, "bob")
    for i, key in enumerate(LOOKALIKES):
        stored = await call(client, "set_memory", key=key, value=i, auth_token=alice)
        assert stored["version"] == 1, key  # each is a new key, not a replacement
        assert stored["key"] == key
    for i, key in enumerate(LOOKALIKES):
        assert (await call(client, "get_memory", key=key, auth_token=alice))["value"] == i
        assert (await fail(client, "get_memory", key=key, auth_token=bob))["code"] == (
            "MEMORY_NOT_FOUND"
        )
    listed = await call(client, "list_memory", limit=100, auth_token=alice)
    assert [e["key"] for e in listed["entries"]] == LOOKALIKES
    assert (await call(client, "list_memory", auth_token=bob))["entries"] == []
    prefixed = await call(client, "list_memory", prefix="caf", auth_token=alice)
    assert [e["key"] for e in prefixed["entries"]] == [k for k in LOOKALIKES if k.startswith("caf")]
    stored_keys = [r[2] for r in await memory_rows(services)]
    assert stored_keys == LOOKALIKES  # byte for byte, no normalisation


async def test_memory_resource_is_refused_to_other_agents_like_a_missing_one(
    services: Services,
) -> None:
    async with serve_http(services) as url:
        async with Client(url) as anon:
            alice = await login(anon, "alice")
            bob = await login(anon, "bob")
            root = await login(anon, "root", "ops", admin=True)
            await call(anon, "set_memory", key="k", value="alice's", auth_token=alice)
            with pytest.raises(MCPError) as no_identity:
                await anon.read_resource("agent://alice/memory")
            assert "AUTH_REQUIRED" in str(no_identity.value)
        async with Client(url, auth=alice) as as_alice:
            snapshot = resource_json(await as_alice.read_resource("agent://alice/memory"))
            assert snapshot["agent_id"] == "alice"
            assert [(e["key"], e["value"]) for e in snapshot["entries"]] == [("k", "alice's")]

        async def refusal(token: str, uri: str) -> tuple[int, str, object]:
            async with Client(url, auth=token) as reader:
                with pytest.raises(MCPError) as err:
                    await reader.read_resource(uri)
            error = err.value.error
            data = error.data if error.data != {"uri": uri} else {"uri": "<uri>"}
            return error.code, error.message.replace(uri, "<uri>"), data

        missing = await refusal(bob, "agent://nobody/memory")
        for token in (bob, root):
            assert await refusal(token, "agent://alice/memory") == missing
        assert await refusal(bob, "agent://alice/other") == missing
        assert missing[1] == "Resource not found: '<uri>'"


async def test_resource_refuses_an_invalid_bearer_token(services: Services) -> None:
    async with serve_http(services) as url:
        async with Client(url, auth="not-a-token") as reader:
            with pytest.raises(MCPError) as err:
                await reader.read_resource("agent://alice/memory")
        assert "TOKEN_INVALID" in str(err.value)
        async with httpx.AsyncClient() as http:
            health = await http.get(url.removesuffix("/mcp") + "/health")
            assert health.status_code == 200


TRICKY = (
    "aAbBßẞıIİiσςΣ"  # case pairs and case-folding traps
    "e\u0301é\u00e9\u0065\u0300"  # composed / decomposed
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters
    "ｆＦ𝐚ﬁ"  # compatibility forms
    "\u05d0\u202e\u0627"  # right-to-left letters and override
    "🙂👍🏽/:._-"
)


async def test_random_tricky_keys_round_trip_exactly_per_owner(services: Services) -> None:
    rng = random.Random(20261129)
    alice, bob = principal("alice"), principal("bob")
    keys = {"".join(rng.choice(TRICKY) for _ in range(rng.randint(1, 6))) for _ in range(300)}
    for i, key in enumerate(sorted(keys)):
        assert (await services.memory.set(alice, key, i)).version == 1
    for i, key in enumerate(sorted(keys)):
        got = await services.memory.get(alice, key)
        assert (got.key, got.value) == (key, i)
        with pytest.raises(NotFound):
            await services.memory.get(bob, key)
    rows = await memory_rows(services)
    assert sorted(r[2] for r in rows) == sorted(keys)
    assert (await services.memory.list(bob, session_id="all")).entries == []
