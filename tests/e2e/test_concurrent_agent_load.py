"""The seed's test_concurrent_agent_load: 25 agents, each with its own Streamable HTTP
connection (official MCP SDK client) and identity, run the typical operations at once."""

from __future__ import annotations

import asyncio

import pytest

from shared_context.benchmark.harness import ServerProcess
from shared_context.benchmark.workload import Agent, Outcome

AGENTS = 25


async def simulate_agent_session(url: str, agent_id: str) -> Outcome:
    outcome = Outcome()
    agent = Agent(url, agent_id, "load_test")
    try:
        await agent.connect()
    except Exception:
        await agent.close()
        outcome.add(0.0, False, "connect")
        return outcome
    try:
        await agent.timed(outcome, "register_agent_presence", status="active")
        created = await agent.timed(
            outcome, "create_session", purpose=f"Load test session for {agent_id}"
        )
        session_id = created.get("session_id", "session_0000000000000000")
        await asyncio.gather(
            agent.timed(
                outcome, "add_message", session_id=session_id, content=f"Message from {agent_id}"
            ),
            agent.timed(
                outcome,
                "set_memory",
                key=f"{agent_id}_state",
                value={"status": "active", "session": session_id},
            ),
            agent.timed(outcome, "search_context", session_id=session_id, query="load test"),
            agent.timed(outcome, "get_messages", session_id=session_id, limit=10),
        )
        await agent.timed(outcome, "get_memory", key=f"{agent_id}_state")
    finally:
        await agent.close()
    return outcome


@pytest.mark.slow
async def test_concurrent_agent_load() -> None:
    with ServerProcess() as server:
        async with asyncio.timeout(120):
            outcomes = await asyncio.gather(
                *(simulate_agent_session(server.url, f"load-agent-{i}") for i in range(AGENTS))
            )
        total = Outcome()
        for outcome in outcomes:
            total.merge(outcome)
        calls = total.ok + total.failed
        assert calls == AGENTS * 7
        success_rate = total.ok / calls
        assert success_rate >= 0.95, total.errors
        # We expect every call to succeed; anything less is worth seeing in the failure.
        assert total.failed == 0, total.errors
        assert "database is locked" not in server.log_path.read_text()
