"""``scs serve --transport stdio`` as a subprocess, driven by the official SDK's stdio client."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mcp.client.client import Client as SdkClient
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.helpers import ADMIN_KEY, AGENT_KEY
from tests.server_process import INIT, scs_command, sdk_call, sdk_fail, server_env

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


def test_stdio_server_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        scs_command("serve", "--transport", "stdio"),
        env=server_env(tmp_path / "data", SCS_LOG_LEVEL="INFO"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write((json.dumps(INIT) + "\n").encode())
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())  # the server is up and serving
        assert answer["id"] == 1 and "result" in answer
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"stopping on signal" in err
