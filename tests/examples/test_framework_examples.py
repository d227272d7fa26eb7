"""Every framework example runs, offline, against a real ``scs serve``; the session it made
holds messages from at least two distinct agents (checked here over MCP as an admin).

The examples are MCP clients with their own uv project (``examples/pyproject.toml``: the
frameworks' MCP adapters need the MCP SDK 1.x, the server 2.x), so each runs as the documented
command in a subprocess, in ``examples/.venv``; the main environment is not touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from tests.helpers import AGENT_KEY, call, login
from tests.server_process import ServerProcess, server_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FRAMEWORKS = {
    "langgraph": "langgraph_team.py",
    "autogen": "autogen_team.py",
    "crewai": "crewai_team.py",
    "openai-agents": "openai_agents_team.py",
}
SYNC_TIMEOUT = 900.0
RUN_TIMEOUT = 240.0
# The bounded wait for the server's /health, long enough for a loaded machine.
START_TIMEOUT = 120.0

pytestmark = pytest.mark.timeout(SYNC_TIMEOUT + RUN_TIMEOUT)


def uv_env(**extra: str) -> dict[str, str]:
    """The examples' own environment; no model keys, so every example runs offline."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"}
        and not k.startswith(("SCS_", "UV_PROJECT", "COVERAGE"))
    }
    env["UV_PROJECT_ENVIRONMENT"] = str(EXAMPLES / ".venv")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real ``scs serve`` over Streamable HTTP for all examples (each makes its own
    session, and the check reads only that session)."""
    process = ServerProcess(tmp_path_factory.mktemp("examples") / "data")
    try:
        process.start(timeout=START_TIMEOUT)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def examples_uv() -> list[str]:
    """``uv run`` for the examples project, after ``uv sync`` from the committed lock."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed: the examples' environment cannot be created")
    base = [uv, "--project", str(EXAMPLES)]
    sync = subprocess.run(
        [*base, "sync", "--group", "examples", "--frozen", "--quiet"],
        cwd=ROOT,
        env=uv_env(),
        capture_output=True,
        text=True,
        timeout=SYNC_TIMEOUT,
    )
    if sync.returncode != 0:
        pytest.skip(f"cannot create the examples' environment (uv sync): {sync.stderr[-1500:]}")
    return [*base, "run", "--group", "examples", "--frozen", "python"]


def run_example(uv_run: list[str], script: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [*uv_run, f"examples/{script}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    output = f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{output}"
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


async def senders_seen_by_admin(server: str | StdioTransport, session_id: str) -> set[str]:
    async with Client(server) as client:
        admin = await login(client, "examples-auditor", "script", admin=True)
        body = await call(
            client, "get_messages", session_id=session_id, limit=100, auth_token=admin
        )
    return {message["sender"] for message in body["messages"]}


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
async def test_example_shares_context_over_streamable_http(
    framework: str, examples_uv: list[str], server: ServerProcess
) -> None:
    env = uv_env(SCS_URL=server.url, SCS_API_KEY=AGENT_KEY)
    summary = run_example(examples_uv, FRAMEWORKS[framework], env)
    assert summary["framework"] == framework
    senders = await senders_seen_by_admin(server.url, str(summary["session_id"]))
    assert len(senders) >= 2, senders
    assert senders == set(summary["senders"])
    assert {f"{framework}-researcher", f"{framework}-reviewer"} <= senders


async def test_langgraph_example_over_stdio(examples_uv: list[str], tmp_path: Path) -> None:
    """The same LangGraph example, with the server started by langchain-mcp-adapters over
    stdio; the admin check then opens the data directory with another stdio server."""
    data = tmp_path / "data"
    data.mkdir()
    command = [sys.executable, "-m", "shared_context.cli.main", "serve", "--transport", "stdio"]
    settings = {k: v for k, v in server_env(data).items() if k.startswith("SCS_")}
    env = uv_env(**settings, SCS_STDIO_COMMAND=json.dumps(command))
    summary = run_example(examples_uv, FRAMEWORKS["langgraph"], env)
    checker = StdioTransport(command[0], command[1:], env=server_env(data))
    senders = await senders_seen_by_admin(checker, str(summary["session_id"]))
    assert {"langgraph-researcher", "langgraph-reviewer"} <= senders
