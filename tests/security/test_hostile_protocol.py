"""SPEC §19 attacks on the protocol surface: each reproduces a reported attack and asserts the
fixed behaviour (issue 12)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastmcp import Client
from mcp import types as mt
from mcp.shared.exceptions import MCPError

from shared_context.bootstrap import open_services
from shared_context.domain.errors import AuthError, ErrorCode
from shared_context.services.container import Services
from shared_context.services.results import TokenResult
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY, call, fail, login


async def test_wait_without_after_id_never_exposes_a_hidden_id(client: Client) -> None:
    admin = await login(client, "root", admin=True)
    reader = await login(client, "reader")
    sid = (await call(client, "create_session", purpose="w", auth_token=admin))["session_id"]
    seen = await call(client, "add_message", session_id=sid, content="hi", auth_token=admin)
    hidden = await call(
        client,
        "add_message",
        session_id=sid,
        content="secret",
        visibility="admin_only",
        auth_token=admin,
    )
    assert hidden["message_id"] > seen["message_id"]
    body = await call(
        client, "wait_for_messages", session_id=sid, timeout_seconds=0, auth_token=reader
    )
    assert body["timed_out"] is True
    assert body["last_id"] == seen["message_id"]
    assert body["last_id"] != hidden["message_id"]


@pytest.mark.parametrize("tool", ["set_memory", "get_memory", "list_memory", "delete_memory"])
async def test_empty_session_id_on_memory_tools_is_invalid(client: Client, tool: str) -> None:
    token = await login(client, "mem")
    args: dict[str, object] = {"session_id": "", "auth_token": token}
    if tool != "list_memory":
        args["key"] = "k"
    if tool == "set_memory":
        args["value"] = 1
    body = await fail(client, tool, **args)
    assert body["code"] == "INVALID_INPUT", body
    listed = await call(client, "list_memory", auth_token=token)
    assert listed["count"] == 0  # nothing was written to global scope


async def test_parallel_refreshes_yield_at_most_one_valid_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d")
    async with open_services(settings) as app:
        body = await app.auth.authenticate("alice", "claude", AGENT_KEY, ["read", "write"])
        principal = await app.auth.resolve(body.token)
        outcomes = await asyncio.gather(
            *(app.auth.refresh(principal) for _ in range(10)), return_exceptions=True
        )
        won = [o for o in outcomes if isinstance(o, TokenResult)]
        lost = [o for o in outcomes if isinstance(o, AuthError)]
        assert len(won) == 1, outcomes
        assert len(lost) == 9
        assert all(e.code is ErrorCode.TOKEN_INVALID for e in lost)
        assert (await app.auth.resolve(won[0].token)).agent_id == "alice"
        with pytest.raises(AuthError):
            await app.auth.resolve(body.token)


async def test_parallel_refresh_tool_calls_yield_at_most_one_token(
    client: Client, services: Services
) -> None:
    token = await login(client, "bob")
    results = await asyncio.gather(
        *(
            client.call_tool("refresh_token", {"auth_token": token}, raise_on_error=False)
            for _ in range(10)
        )
    )
    fresh = [r.structured_content for r in results if not r.is_error]
    assert len(fresh) == 1
    for r in results:
        if r.is_error:
            assert r.structured_content is not None
            assert r.structured_content["code"] == "TOKEN_INVALID"
    assert fresh[0] is not None
    assert (await services.auth.resolve(fresh[0]["token"])).agent_id == "bob"


async def test_unknown_tool_is_a_jsonrpc_invalid_params_error(client: Client) -> None:
    token = await login(client, "x")
    with pytest.raises(MCPError) as raised:
        await client.call_tool("drop_all_tables", {"auth_token": token})
    assert raised.value.error.code == mt.INVALID_PARAMS
    assert "drop_all_tables" in raised.value.error.message


@pytest.mark.parametrize("method", ["tools/list", "prompts/list", "resources/list"])
async def test_malformed_list_cursor_is_a_jsonrpc_invalid_params_error(
    client: Client, method: str
) -> None:
    request: mt.ListToolsRequest | mt.ListPromptsRequest | mt.ListResourcesRequest
    params = mt.PaginatedRequestParams(cursor="not-a-real-cursor!!")
    if method == "tools/list":
        request = mt.ListToolsRequest(params=params)
    elif method == "prompts/list":
        request = mt.ListPromptsRequest(params=params)
    else:
        request = mt.ListResourcesRequest(params=params)
    with pytest.raises(MCPError) as raised:
        await client.session.send_request(request, mt.EmptyResult)  # type: ignore[arg-type]
    assert raised.value.error.code == mt.INVALID_PARAMS


async def test_lists_still_answer_without_a_cursor(client: Client) -> None:
    tools = await client.list_tools()
    assert any(t.name == "authenticate_agent" for t in tools)
    assert await client.list_prompts() is not None
