"""``scs serve --transport stdio`` as a subprocess, driven by the official SDK's stdio client."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp.client.client import Client as SdkClient
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.helpers import ADMIN_KEY, AGENT_KEY
from tests.server_process import sdk_call, sdk_fail, server_env

pytestmark = pytest.mark.slow


async def test_four_agent_workflow_over_stdio(tmp_path: Path) -> None:
    data = tmp_path / "data"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "shared_context.cli.main", "serve", "--transport", "stdio"],
        env=server_env(data),
    )
    errlog = (tmp_path / "stdio.log").open("w")
    try:
        async with SdkClient(stdio_client(params, errlog=errlog)) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert {"authenticate_agent", "add_message", "get_messages"} <= tools
            tokens: dict[str, str] = {}
            for agent, kind, admin in (
                ("alice", "claude", False),
                ("bob", "claude", False),
                ("gina", "gemini", False),
                ("root", "ops", True),
            ):
                body = await sdk_call(
                    client,
                    "authenticate_agent",
                    agent_id=agent,
                    agent_type=kind,
                    api_key=ADMIN_KEY if admin else AGENT_KEY,
                    requested_permissions=["read", "write", "admin"] if admin else None,
                )
                tokens[agent] = body["token"]
            assert (await sdk_fail(client, "list_sessions"))["code"] == "AUTH_REQUIRED"
            sid = (
                await sdk_call(
                    client, "create_session", purpose="stdio", auth_token=tokens["alice"]
                )
            )["session_id"]
            for vis in ("public", "private", "agent_only"):
                await sdk_call(
                    client,
                    "add_message",
                    session_id=sid,
                    content=f"{vis} note",
                    visibility=vis,
                    auth_token=tokens["alice"],
                )
            await sdk_call(
                client,
                "add_message",
                session_id=sid,
                content="admin note",
                visibility="admin_only",
                auth_token=tokens["root"],
            )
            seen = {}
            for agent, token in tokens.items():
                body = await sdk_call(client, "get_messages", session_id=sid, auth_token=token)
                seen[agent] = [m["content"] for m in body["messages"]]
    finally:
        errlog.close()
    assert seen == {
        "alice": ["public note", "private note", "agent_only note"],
        "bob": ["public note", "agent_only note"],
        "gina": ["public note"],
        "root": ["public note", "admin note"],
    }
    # The stdio server shut down cleanly when the client closed its stdin.
    log = (tmp_path / "stdio.log").read_text()
    assert "Traceback" not in log, log[-3000:]
