"""Real MCP clients driven by what ``scs client-config`` prints (SPEC §16): Claude Code
(``claude mcp add`` then ``claude mcp list`` shows the server connected) and the MCP
Inspector CLI (lists tools and calls ``create_session`` with no token), each over stdio and
HTTP. Both need Node 22 and their npm packages (``.ci/run`` installs them under
``~/.cache/scs-node``); without them the tests skip and say why.

Each test has its own HOME, so the clients' configuration (``~/.claude.json``) and the
server's default data directory (``~/.local/share/shared-context``) are the test's own.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.node_tools import node_env, tool
from tests.server_process import ServerProcess, run_scs

pytestmark = pytest.mark.slow
TIMEOUT = 180


@dataclass
class Setup:
    home: Path
    env: dict[str, str]  # the user's shell: HOME, PATH with Node 22 and the tools, the key
    key: str
    server: ServerProcess

    @property
    def data_dir(self) -> Path:
        return self.home / ".local" / "share" / "shared-context"

    def printed(self, client: str, transport: str) -> str:
        done = run_scs("client-config", client, "--transport", transport, "--url",
                       self.server.url, env=self.env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def run(self, argv: list[str] | str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            argv,
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            shell=isinstance(argv, str),
            executable="/bin/bash" if isinstance(argv, str) else None,
            check=False,
        )
        assert done.returncode == 0, f"{argv!r} failed:\n{done.stdout}\n{done.stderr}"
        return done


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    home = tmp_path / "home"
    home.mkdir()
    base = {"HOME": str(home), "PATH": os.environ["PATH"], "SCS_LOG_LEVEL": "WARNING"}
    data = home / ".local" / "share" / "shared-context"
    created = run_scs("keys", "create", "mine", "--agent", "claude-1", "--agent", "cursor-1",
                      env=base)  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    server_env = {**base, "SCS_DATA_DIR": str(data)}
    with ServerProcess(data, env=server_env) as server:
        server.start()
        yield Setup(home, node_env({**base, "SCS_API_KEY": key}), key, server)


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_claude_code_adds_and_connects(setup: Setup, transport: str) -> None:
    claude = tool("claude")
    line = setup.printed("claude-code", transport)
    assert line.startswith("claude mcp add ")
    setup.run(f"{claude}{line.removeprefix('claude')}")  # the printed line, run by bash
    listed = setup.run([str(claude), "mcp", "list"]).stdout
    entry = next(row for row in listed.splitlines() if row.startswith("shared-context"))
    assert "Connected" in entry, listed
    stored = json.loads((setup.home / ".claude.json").read_text())
    servers = stored["projects"][str(setup.home)]["mcpServers"]["shared-context"]
    assert "auth_token" not in json.dumps(servers)


def inspector_json(setup: Setup, argv: list[str]) -> dict[str, object]:
    out = setup.run(argv).stdout
    start = out.index("{")  # the server may log a line to stderr first; stdout is the JSON
    body: dict[str, object] = json.loads(out[start:])
    return body


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_inspector_lists_tools_and_creates_a_session_without_a_token(
    setup: Setup, transport: str
) -> None:
    inspector = str(tool("mcp-inspector"))
    # Variadic options (--tool-arg, --header) end at the next option or "--": the URL goes
    # first, the stdio command last.
    head: list[str] = []
    tail: list[str] = []
    if transport == "stdio":
        entry = json.loads(setup.printed("cursor", "stdio"))["mcpServers"]["shared-context"]
        env = {**entry["env"], "SCS_API_KEY": setup.key}
        tail = [part for k, v in env.items() for part in ("-e", f"{k}={v}")]
        tail += ["--", entry["command"], *entry["args"]]
    else:
        entry = json.loads(setup.printed("cursor", "http"))["mcpServers"]["shared-context"]
        headers = {**entry["headers"], "X-API-Key": setup.key}
        head = [entry["url"], "--transport", "http"]
        tail = ["--header", *(f"{k}: {v}" for k, v in headers.items())]
    cli = [inspector, "--cli", *head]
    listed = inspector_json(setup, [*cli, "--method", "tools/list", *tail])
    names = {t["name"] for t in listed["tools"]}  # type: ignore[attr-defined]
    assert {"create_session", "add_message", "get_messages"} <= names
    call = ["--method", "tools/call", "--tool-name", "create_session"]
    called = inspector_json(setup, [*cli, *call, "--tool-arg", "purpose=inspector", *tail])
    body = called["structuredContent"]
    assert body["success"] is True and body["created_by"] == "cursor-1", called  # type: ignore[index]
