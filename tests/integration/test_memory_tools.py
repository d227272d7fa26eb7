"""Memory tools through the in-process MCP client: result shapes, errors, compare-and-set race."""

from __future__ import annotations

import asyncio
from typing import Any

from fastmcp import Client

from shared_context.services.container import Services
from tests.helpers import call, fail, login
from tests.memory_support import memory_rows

ROUNDS = 50
RACERS = 20


async def test_tool_round_trip_and_result_shapes(client: Client) -> None:
    token = await login(client, "alice")
    sid = (await call(client, "create_session", purpose="memory", auth_token=token))["session_id"]
    stored = await call(
        client,
        "set_memory",
        key="notes",
        value={"todo": ["a", "b"]},
        session_id=sid,
        expires_in=3600,
        metadata={"kind": "todo"},
        auth_token=token,
    )
    assert {"success", "key", "scope", "version", "expires_at"} <= set(stored)
    assert (stored["key"], stored["scope"], stored["version"]) == ("notes", "session", 1)
    got = await call(client, "get_memory", key="notes", session_id=sid, auth_token=token)
    assert got["value"] == {"todo": ["a", "b"]}
    assert {
        "key",
        "value",
        "scope",
        "session_id",
        "version",
        "expires_at",
        "created_at",
        "updated_at",
    } <= set(got)
    listed = await call(client, "list_memory", session_id=sid, auth_token=token)
    assert [e["key"] for e in listed["entries"]] == ["notes"]
    assert {"key", "scope", "session_id", "version", "expires_at", "size_bytes"} <= set(
        listed["entries"][0]
    )
    assert listed["next_cursor"] is None
    assert (await call(client, "list_memory", auth_token=token))["entries"] == []
    gone = await call(client, "delete_memory", key="notes", session_id=sid, auth_token=token)
    assert gone["deleted"] is True
    missing = await fail(client, "get_memory", key="notes", session_id=sid, auth_token=token)
    assert missing["code"] == "MEMORY_NOT_FOUND"


async def test_null_value_is_a_value(client: Client) -> None:
    token = await login(client, "alice")
    await call(client, "set_memory", key="nothing", value=None, auth_token=token)
    assert (await call(client, "get_memory", key="nothing", auth_token=token))["value"] is None


async def test_conflict_errors_carry_codes_and_current_version(client: Client) -> None:
    token = await login(client, "alice")
    await call(client, "set_memory", key="k", value=1, auth_token=token)
    exists = await fail(client, "set_memory", key="k", value=2, overwrite=False, auth_token=token)
    assert exists["code"] == "KEY_EXISTS"
    stale = await fail(client, "set_memory", key="k", value=2, if_version=7, auth_token=token)
    assert stale["code"] == "VERSION_CONFLICT"
    assert stale["current_version"] == 1
    assert "version" in stale["message"]


async def test_bad_inputs_over_mcp_are_invalid_input_and_store_nothing(
    client: Client, services: Services
) -> None:
    token = await login(client, "alice")
    cases: list[dict[str, Any]] = [
        {"key": "", "value": 1},
        {"key": "k" * 256, "value": 1},
        {"key": "has space", "value": 1},
        {"key": "tab\t", "value": 1},
        {"key": "nul\x00byte", "value": 1},
        {"key": "k", "value": "x" * (1024 * 1024)},
        {"key": "k", "value": 1, "expires_in": 0},
        {"key": "k", "value": 1, "expires_in": -1},
        {"key": "k", "value": 1, "expires_in": 2**63},
        {"key": "k", "value": 1, "expires_in": "abc"},
        {"key": "k", "value": 1, "expires_in": 1.5},
        {"key": "k", "value": 1, "expires_in": True},
        {"key": "k", "value": 1, "metadata": {"x": "y" * 20_000}},
        {"key": "k", "value": 1, "if_version": "1"},
    ]
    for args in cases:
        body = await fail(client, "set_memory", auth_token=token, **args)
        assert body["code"] == "INVALID_INPUT", (args.get("key", "")[:20], body)
        assert len(body["message"]) < 500
    missing_value = await fail(client, "set_memory", key="k", auth_token=token)
    assert missing_value["code"] == "INVALID_INPUT"
    assert await memory_rows(services) == []
    for tool in ("get_memory", "delete_memory"):
        assert (await fail(client, tool, key="a b", auth_token=token))["code"] == "INVALID_INPUT"
    bad_list = await fail(client, "list_memory", limit=0, auth_token=token)
    assert bad_list["code"] == "INVALID_INPUT"


async def test_memory_tools_need_a_token(client: Client) -> None:
    for tool, args in (
        ("set_memory", {"key": "k", "value": 1}),
        ("get_memory", {"key": "k"}),
        ("list_memory", {}),
        ("delete_memory", {"key": "k"}),
    ):
        assert (await fail(client, tool, **args))["code"] == "AUTH_REQUIRED"


async def test_compare_and_set_race_has_exactly_one_winner(client: Client) -> None:
    token = await login(client, "racer")
    version = (await call(client, "set_memory", key="counter", value=0, auth_token=token))[
        "version"
    ]
    for round_no in range(ROUNDS):
        results = await asyncio.gather(
            *(
                client.call_tool(
                    "set_memory",
                    {
                        "key": "counter",
                        "value": {"round": round_no, "racer": i},
                        "if_version": version,
                        "auth_token": token,
                    },
                    raise_on_error=False,
                )
                for i in range(RACERS)
            )
        )
        winners = [r.structured_content for r in results if not r.is_error]
        losers = [r.structured_content for r in results if r.is_error]
        assert len(winners) == 1, f"round {round_no}: {len(winners)} winners"
        assert len(losers) == RACERS - 1
        assert all(body and body["code"] == "VERSION_CONFLICT" for body in losers)
        assert winners[0] is not None
        assert winners[0]["version"] == version + 1
        version = winners[0]["version"]
        current = await call(client, "get_memory", key="counter", auth_token=token)
        assert current["version"] == version
        assert current["value"]["round"] == round_no
    assert version == ROUNDS + 1
