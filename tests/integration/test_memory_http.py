"""Memory over a real HTTP server: the agent memory resource (bearer identity, exact expiry)
and inputs only a raw client can send (NaN, 1,000-deep nesting, 1 MiB values)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from fastmcp import Client
from pydantic import SecretStr

from shared_context.bootstrap import open_services
from shared_context.domain.clock import ManualClock
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY, call, login
from tests.memory_support import RawMcp, memory_rows, resource_json, serve_http


async def test_expired_entry_leaves_get_list_and_resource_at_once(
    clocked_services: Services, clock: ManualClock
) -> None:
    app = clocked_services
    async with serve_http(app) as url:
        async with Client(url) as anon:
            token = await login(anon, "alice")
        async with Client(url, auth=token) as client:
            start = clock.now()
            await call(client, "set_memory", key="blink", value="now you see me", expires_in=1)
            await call(client, "set_memory", key="stay", value="still here")
            clock.set(start + 0.9)
            got = await call(client, "get_memory", key="blink")
            assert got["value"] == "now you see me"
            listed = await call(client, "list_memory", session_id="all")
            assert [e["key"] for e in listed["entries"]] == ["blink", "stay"]
            snapshot = resource_json(await client.read_resource("agent://alice/memory"))
            assert [e["key"] for e in snapshot["entries"]] == ["blink", "stay"]

            clock.set(start + 1.0)
            gone = await client.call_tool("get_memory", {"key": "blink"}, raise_on_error=False)
            assert gone.is_error
            assert gone.structured_content is not None
            assert gone.structured_content["code"] == "MEMORY_NOT_FOUND"
            listed = await call(client, "list_memory", session_id="all")
            assert [e["key"] for e in listed["entries"]] == ["stay"]
            snapshot = resource_json(await client.read_resource("agent://alice/memory"))
            assert [e["key"] for e in snapshot["entries"]] == ["stay"]
    assert [r[2] for r in await memory_rows(app)] == ["blink", "stay"]  # not swept yet
    assert await app.memory.sweep_expired() == 1
    assert [r[2] for r in await memory_rows(app)] == ["stay"]


async def test_raw_json_bad_inputs_store_nothing(services: Services) -> None:
    async with serve_http(services) as url:
        async with Client(url) as client:
            token = await login(client, "alice")
        async with httpx.AsyncClient(timeout=30) as http:
            raw = RawMcp(http, url)
            await raw.start()
            base = f'"auth_token": "{token}"'
            nan = await raw.call_tool(
                "set_memory", f'{{"key": "k", "value": 1, "expires_in": NaN, {base}}}'
            )
            assert nan["result"]["structuredContent"]["code"] == "INVALID_INPUT"
            nan_value = await raw.call_tool("set_memory", f'{{"key": "k", "value": NaN, {base}}}')
            assert nan_value["result"]["structuredContent"]["code"] == "INVALID_INPUT"
            big = json.dumps("x" * (1024 * 1024))
            huge = await raw.call_tool("set_memory", f'{{"key": "k", "value": {big}, {base}}}')
            assert huge["result"]["structuredContent"]["code"] == "INVALID_INPUT"
            assert "bytes" in huge["result"]["structuredContent"]["message"]
            deep100 = "[" * 100 + "1" + "]" * 100
            nested = await raw.call_tool(
                "set_memory", f'{{"key": "k", "value": {deep100}, {base}}}'
            )
            assert nested["result"]["structuredContent"]["code"] == "INVALID_INPUT"
            assert "nested" in nested["result"]["structuredContent"]["message"]
            # 1,000 levels do not even parse: a JSON-RPC error, never a 5xx or a crash.
            deep1000 = "[" * 1000 + "1" + "]" * 1000
            refused = await raw.call_tool(
                "set_memory", f'{{"key": "k", "value": {deep1000}, {base}}}'
            )
            assert "error" in refused or refused["result"]["isError"]
            ok = await raw.call_tool("set_memory", f'{{"key": "k", "value": [[1]], {base}}}')
            assert ok["result"]["structuredContent"]["version"] == 1
    assert [r[2] for r in await memory_rows(services)] == ["k"]


async def test_resource_over_stdio_style_identity_uses_the_configured_token(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    async with open_services(make_settings(data)) as setup:
        token = (await setup.auth.authenticate("alice", "claude", AGENT_KEY, None)).token
        await setup.memory.set(await setup.auth.resolve(token), "k", {"v": 1})
    settings = make_settings(data, agent_token=SecretStr(token))
    async with open_services(settings) as app, Client(build_mcp(app)) as client:
        snapshot = resource_json(await client.read_resource("agent://alice/memory"))
        assert snapshot["entries"][0]["value"] == {"v": 1}
