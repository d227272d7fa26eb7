"""25 agents posting and reading at once through one server: every call succeeds, nothing
is reported locked, every message lands exactly once."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client as FastClient
from fastmcp import FastMCP

from tests.helpers import AGENT_KEY, call
from tests.server_process import ServerProcess, sdk_call, sdk_client

AGENTS = 25
ROUNDS = 6
TIMEOUT = 110.0


class Barrier:
    def __init__(self, parties: int) -> None:
        self.waiting = parties
        self.event = asyncio.Event()

    async def arrive(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.event.set()
        await self.event.wait()


async def agent_round_trip(call_tool: Any, agent_id: str, sid: str, start: Barrier) -> list[int]:
    body = await call_tool(
        "authenticate_agent", agent_id=agent_id, agent_type=f"t{agent_id[-1]}", api_key=AGENT_KEY
    )
    token = body["token"]
    await start.arrive()  # everyone authenticated: all start writing and reading together
    ids = []
    for i in range(ROUNDS):
        added = await call_tool(
            "add_message",
            session_id=sid,
            content=f"{agent_id} {i}",
            visibility="public" if i % 2 == 0 else "agent_only",
            idempotency_key=f"{agent_id}-{i}",
            auth_token=token,
        )
        ids.append(added["message_id"])
        page = await call_tool("get_messages", session_id=sid, limit=50, auth_token=token)
        assert page["success"]
        session = await call_tool("get_session", session_id=sid, auth_token=token)
        assert session["message_count"] >= i + 1
    return ids


async def run_agents(call_for: Any, sid: str) -> list[int]:
    start = Barrier(AGENTS)
    tasks = [
        asyncio.create_task(agent_round_trip(call_for(n), f"agent{n:02d}", sid, start))
        for n in range(AGENTS)
    ]
    async with asyncio.timeout(TIMEOUT):
        results = await asyncio.gather(*tasks)
    return [message_id for ids in results for message_id in ids]


async def test_25_agents_in_process(server: FastMCP, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    clients = [FastClient(server) for _ in range(AGENTS)]
    for client in clients:
        await client.__aenter__()  # type: ignore[no-untyped-call]
    try:
        creator = await call(
            clients[0],
            "authenticate_agent",
            agent_id="creator",
            agent_type="claude",
            api_key=AGENT_KEY,
        )
        sid = (
            await call(clients[0], "create_session", purpose="load", auth_token=creator["token"])
        )["session_id"]

        def call_for(n: int) -> Any:
            async def call_tool(tool: str, **args: Any) -> dict[str, Any]:
                return await call(clients[n], tool, **args)

            return call_tool

        ids = await run_agents(call_for, sid)
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)  # type: ignore[no-untyped-call]
    assert len(ids) == len(set(ids)) == AGENTS * ROUNDS
    assert not [r for r in caplog.records if "locked" in r.getMessage().lower()]


@pytest.mark.slow
async def test_25_agents_over_http(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data").start() as server:
        async with sdk_client(server.url) as setup:
            creator = await sdk_call(
                setup, "authenticate_agent", agent_id="creator", api_key=AGENT_KEY
            )
            sid = (
                await sdk_call(setup, "create_session", purpose="load", auth_token=creator["token"])
            )["session_id"]
        contexts = [sdk_client(server.url) for _ in range(AGENTS)]
        clients = [await context.__aenter__() for context in contexts]
        try:

            def call_for(n: int) -> Any:
                async def call_tool(tool: str, **args: Any) -> dict[str, Any]:
                    return await sdk_call(clients[n], tool, **args)

                return call_tool

            ids = await run_agents(call_for, sid)
        finally:
            for context in reversed(contexts):
                await context.__aexit__(None, None, None)
        log = server.log()
    assert len(ids) == len(set(ids)) == AGENTS * ROUNDS
    assert "locked" not in log.lower(), log
    assert "Traceback" not in log, log
