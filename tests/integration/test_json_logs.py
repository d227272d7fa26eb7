"""A real ``scs serve`` with SCS_LOG_FORMAT=json: every line it writes is one JSON object,
each tool call is logged with its request id, agent, tool, duration and outcome, and no key,
token or message content ever appears."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import ADMIN_KEY, AGENT_KEY, JWT_SECRET
from tests.server_process import ServerProcess, sdk_call, sdk_client, sdk_fail, server_env

pytestmark = pytest.mark.slow

SECRET_CONTENT = "the launch code is 7781-alpha"


async def test_json_logs_of_a_short_workload(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = server_env(data, SCS_LOG_FORMAT="json", SCS_LOG_LEVEL="INFO")
    server = ServerProcess(data, env=env)
    try:
        server.start(timeout=90)  # imports alone take seconds on a loaded machine
        async with sdk_client(server.url) as client:
            login = await sdk_call(
                client,
                "authenticate_agent",
                agent_id="logger-1",
                agent_type="claude",
                api_key=AGENT_KEY,
            )
            token = login["token"]
            sid = (await sdk_call(client, "create_session", purpose="logs", auth_token=token))[
                "session_id"
            ]
            await sdk_call(
                client, "add_message", session_id=sid, content=SECRET_CONTENT, auth_token=token
            )
            await sdk_call(client, "get_messages", session_id=sid, auth_token=token)
            await sdk_fail(client, "add_message", session_id=sid, content="", auth_token=token)
            bad = await sdk_fail(client, "get_messages", session_id=sid, auth_token=token + "x")
            assert bad["code"] == "TOKEN_INVALID"
            await sdk_fail(
                client,
                "authenticate_agent",
                agent_id="x",
                agent_type="y",
                api_key="scs_" + "n" * 40,
            )
        async with httpx.AsyncClient(base_url=server.base) as http:
            assert (await http.get("/metrics", headers={"X-API-Key": ADMIN_KEY})).status_code == 200
            assert (await http.get("/metrics", headers={"X-API-Key": "wrong"})).status_code == 401
    finally:
        code = server.stop()
    assert code == 0, server.log()
    text = server.log_path.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(r, dict) for r in records)
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record

    for secret in (AGENT_KEY, ADMIN_KEY, JWT_SECRET, token, token + "x", "n" * 40, SECRET_CONTENT):
        assert secret not in text

    calls = [r for r in records if r["logger"] == "shared_context.calls"]
    by_tool: dict[str, Any] = {}
    for r in calls:
        assert {"request_id", "tool", "duration_ms", "outcome"} <= set(r), r
        assert isinstance(r["duration_ms"], float) and r["duration_ms"] >= 0
        by_tool.setdefault(r["tool"], []).append(r)
    assert len(calls) == 7
    assert len({r["request_id"] for r in calls}) == 7
    assert [r["outcome"] for r in by_tool["add_message"]] == ["ok", "INVALID_INPUT"]
    assert [r["outcome"] for r in by_tool["get_messages"]] == ["ok", "TOKEN_INVALID"]
    assert [r["outcome"] for r in by_tool["authenticate_agent"]] == ["ok", "INVALID_API_KEY"]
    assert all(r["agent_id"] == "logger-1" for r in by_tool["add_message"])
    assert by_tool["create_session"][0]["agent_id"] == "logger-1"
    assert "agent_id" not in by_tool["get_messages"][1]  # the token was refused
