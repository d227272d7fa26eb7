"""SPEC §19: a flood of ``initialize`` without credentials never locks out an authenticated
client, and the server's memory stays bounded (issue 12: 10,000 bare handshakes once filled
the SDK's session table, then every new client got 503 and RSS grew 106 → 480 MB).

Against a real ``scs serve`` process with a pool of 32 unauthenticated sessions. The pool is
filled first, then 600 more handshakes (19 times the pool) must neither be refused nor grow
memory: unbounded, each kept session cost ~37 KB (~22 MB for 600); bounded, the growth is
allocator noise (measured ~1 MB on this machine)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx2
import pytest

from tests.helpers import AGENT_KEY
from tests.security import rawmcp
from tests.server_process import ServerProcess, sdk_call, sdk_client, server_env

FLOOD = 600
PARALLEL = 16
MAX_UNAUTHENTICATED = 32
RSS_BOUND_MB = 12


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def flood(url: str, count: int) -> list[int]:
    statuses: list[int] = []
    limits = httpx2.Limits(max_connections=PARALLEL)
    async with httpx2.AsyncClient(timeout=30, limits=limits) as http:

        async def one() -> None:
            response, _ = await rawmcp.initialize(http, url)
            statuses.append(response.status_code)

        for start in range(0, count, PARALLEL):
            await asyncio.gather(*(one() for _ in range(min(PARALLEL, count - start))))
    return statuses


async def metrics(url: str, token: str) -> dict[str, object]:
    async with sdk_client(url, {"Authorization": f"Bearer {token}"}) as client:
        body = await sdk_call(client, "get_performance_metrics")
    return body


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS read from /proc")
@pytest.mark.timeout(300)
async def test_initialize_flood_cannot_lock_out_an_authenticated_client(tmp_path: Path) -> None:
    env = server_env(
        tmp_path / "d",
        SCS_MAX_UNAUTHENTICATED_SESSIONS=str(MAX_UNAUTHENTICATED),
        SCS_MAX_MCP_SESSIONS="256",
    )
    with ServerProcess(tmp_path / "d", env=env).start() as server:
        assert server.proc is not None
        async with sdk_client(server.url) as client:  # warm up every code path once
            login = await sdk_call(
                client,
                "authenticate_agent",
                agent_id="admin",
                api_key="test-admin-key-0123456789abcdef",
                requested_permissions=["read", "write", "admin"],
            )
        admin = str(login["token"])
        await flood(server.url, 200)
        before = rss_mb(server.proc.pid)

        statuses = await flood(server.url, FLOOD)
        assert set(statuses) == {200}  # the flood evicts itself; it is never refused

        grown = rss_mb(server.proc.pid) - before
        figures = await metrics(server.url, admin)
        sessions = figures["mcp_sessions"]
        assert isinstance(sessions, dict)
        assert sessions["unauthenticated"] <= MAX_UNAUTHENTICATED
        assert sessions["evicted"] >= FLOOD - MAX_UNAUTHENTICATED
        assert grown < RSS_BOUND_MB, f"RSS grew {grown:.1f} MB over the flood"

        # During a flood: a client with a valid bearer token gets in (2025-11-25 handshake)...
        async with httpx2.AsyncClient(timeout=30) as http:
            racing = asyncio.create_task(flood(server.url, 200))
            response, session = await rawmcp.initialize(http, server.url, admin)
            assert response.status_code == 200 and session
            status, body = await rawmcp.rpc(
                http,
                server.url,
                "tools/call",
                {"name": "list_sessions", "arguments": {}},
                token=admin,
                session=session,
            )
            assert status == 200 and body is not None
            assert body["result"]["structuredContent"]["success"] is True
            await racing
            # ...and survives the flood: its session was not evicted.
            status, body = await rawmcp.rpc(
                http, server.url, "ping", {}, token=admin, session=session
            )
            assert status == 200 and body is not None and "result" in body

        # A 2025-11-25 client that initializes without a header and authenticates by tool
        # (auth_token argument) is promoted out of the unauthenticated pool.
        async with httpx2.AsyncClient(timeout=30) as http:
            response, session = await rawmcp.initialize(http, server.url)
            assert response.status_code == 200 and session
            _, body = await rawmcp.rpc(
                http,
                server.url,
                "tools/call",
                {
                    "name": "authenticate_agent",
                    "arguments": {"agent_id": "late", "api_key": AGENT_KEY},
                },
                session=session,
            )
            assert body is not None
            token = body["result"]["structuredContent"]["token"]
            _, body = await rawmcp.rpc(
                http,
                server.url,
                "tools/call",
                {"name": "list_sessions", "arguments": {"auth_token": token}},
                session=session,
            )
            assert body is not None and body["result"]["structuredContent"]["success"] is True
        figures = await metrics(server.url, admin)
        sessions = figures["mcp_sessions"]
        assert isinstance(sessions, dict)
        assert sessions["promoted"] >= 1
