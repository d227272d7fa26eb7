"""Tool profiles (SPEC §16): SCS_TOOLSETS limits tools/list and calls; the X-SCS-Toolsets
header narrows it per HTTP request and can never widen it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client

from shared_context.bootstrap import open_services
from shared_context.domain.errors import InvalidInput
from shared_context.mcp.server import build_mcp
from shared_context.mcp.toolsets import TOOLSETS, parse_toolsets, tools_of
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.e2e.live import serve_http
from tests.helpers import unknown_tool
from tests.integration.test_connection_identity import connect, identity, ok

MAX_DESCRIPTION_CHARS = 300


async def listed(client: Client) -> set[str]:
    return {t.name for t in await client.list_tools()}


async def test_every_tool_is_in_exactly_one_toolset(services: Services) -> None:
    async with Client(build_mcp(services)) as client:
        tools = await client.list_tools()
    names = [t.name for t in tools]
    owners = {name: [s for s, members in TOOLSETS.items() if name in members] for name in names}
    assert all(len(found) == 1 for found in owners.values()), owners
    assert set(names) == tools_of(frozenset(TOOLSETS))  # no stale names in the table
    for t in tools:  # short and exact: a sentence or two, no essays in every agent's context
        assert t.description and len(t.description) <= MAX_DESCRIPTION_CHARS, t.name


async def test_configured_toolsets_limit_list_and_calls(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", toolsets="core,memory")
    async with open_services(settings) as services, Client(build_mcp(services)) as client:
        assert await listed(client) == TOOLSETS["core"] | TOOLSETS["memory"]
        # A hidden tool answers exactly like an unknown one: JSON-RPC -32602.
        hidden = await unknown_tool(
            client, "search_context", session_id="session_0123456789abcdef", query="x"
        )
        missing = await unknown_tool(client, "no_such_tool")
        assert hidden.error.data == missing.error.data
    with pytest.raises(InvalidInput, match="Unknown toolset"):
        async with open_services(make_settings(tmp_path / "e", toolsets="core,bogus")) as app:
            build_mcp(app)


async def test_header_narrows_but_never_widens(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", toolsets="core,search")
    async with open_services(settings) as services, serve_http(services) as url:
        headers = {**identity("alice"), "X-SCS-Toolsets": "core"}
        async with connect(url, headers) as narrow:
            tools = {t.name for t in (await narrow.list_tools()).tools}
            assert tools == TOOLSETS["core"]
            sid = (await ok(narrow, "create_session", purpose="p"))["session_id"]
            await unknown_tool(narrow, "search_context", session_id=sid, query="p")
        widen = {**identity("alice"), "X-SCS-Toolsets": "core,admin,memory"}
        async with connect(url, widen) as wider:
            tools = {t.name for t in (await wider.list_tools()).tools}
            assert tools == TOOLSETS["core"]  # admin/memory are not offered by the server


def test_parse_toolsets() -> None:
    assert parse_toolsets("") == frozenset(TOOLSETS)
    assert parse_toolsets(" core , search ") == {"core", "search"}
    assert parse_toolsets("bogus,core", strict=False) == {"core"}
    assert parse_toolsets("bogus", strict=False) == frozenset(TOOLSETS)
