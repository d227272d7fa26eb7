"""Every ``scs client-config`` output, parsed and started as its client would start it.

Each form is read with the client's own rules (the shell for ``claude mcp add``, JSON with
``${env:VAR}`` for Cursor and Windsurf, ``${input:id}`` for VS Code, ``${VAR}`` for Gemini
CLI, TOML with ``env_vars`` for Codex, a pasted key for Claude Desktop), then the server it
describes is reached exactly as written: the stdio command is spawned from an empty directory
with only the environment the form gives it; the HTTP form's URL and headers are used by the
official SDK client (or by the real mcp-remote where the form runs mcp-remote). No form
contains a token; every call below is made without one.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mcp.client.client import Client as SdkClient
from mcp.client.stdio import StdioServerParameters, stdio_client

from shared_context.bootstrap import open_services
from shared_context.cli.client_config import CLIENTS, DESKTOP_PLACEHOLDER, NAME, VSCODE_INPUT
from shared_context.config import Settings
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.services.container import Services
from tests.e2e.live import serve_http
from tests.integration.test_cli import scs
from tests.node_tools import node_env, tool
from tests.server_process import sdk_call, sdk_client

pytestmark = pytest.mark.slow


@dataclass
class Launch:
    """How the client reaches the server: a command to spawn, or a URL with headers."""

    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def expand(text: str, pattern: str, values: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        assert name in values, f"the form refers to {name!r}, which the user has not set"
        return values[name]

    return re.sub(pattern, sub, text)


def shell_argv(line: str, env: dict[str, str]) -> list[str]:
    """What ``claude`` receives when the user runs the printed line in bash."""
    script = 'claude() { printf "%s\\0" "$@"; }\n' + line
    out = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return out.split("\0")[:-1]


def claude_code(argv: list[str]) -> Launch:
    assert argv[:2] == ["mcp", "add"]
    rest = argv[2:]
    if rest[:2] == ["--transport", "http"]:
        assert rest[2] == NAME
        launch = Launch(url=rest[3])
        pairs = rest[4:]
        while pairs:
            assert pairs[0] == "--header"
            name, _, value = pairs[1].partition(":")
            launch.headers[name.strip()] = value.strip()
            pairs = pairs[2:]
        return launch
    assert rest[0] == NAME
    dash = rest.index("--")
    launch = Launch(command=rest[dash + 1 :])
    options = rest[1:dash]
    while options:
        assert options[0] == "-e"
        key, _, value = options[1].partition("=")
        launch.env[key] = value
        options = options[2:]
    return launch


def mcp_remote(command: str, args: list[str], env: dict[str, str]) -> Launch:
    """``npx -y mcp-remote …``: npx runs the mcp-remote installed for the tests."""
    assert command == "npx" and args[:2] == ["-y", "mcp-remote"]
    return Launch(command=[str(tool("mcp-remote")), *args[2:]], env=node_env(env))


def launch_for(client: str, transport: str, text: str, user_env: dict[str, str]) -> Launch:
    key = user_env["SCS_API_KEY"]
    if client == "claude-code":
        return claude_code(shell_argv(text, user_env))
    if client == "codex":
        entry = tomllib.loads(text)["mcp_servers"][NAME]
        env = {name: user_env[name] for name in entry.get("env_vars", [])}
        env.update(entry.get("env", {}))
        if entry["command"] == "npx":
            return mcp_remote(entry["command"], entry["args"], env)
        return Launch(command=[entry["command"], *entry["args"]], env=env)
    if client == "claude-desktop":
        text = text.replace(DESKTOP_PLACEHOLDER, key)  # Claude Desktop expands nothing
    elif client in ("cursor", "windsurf"):
        text = expand(text, r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", user_env)
    elif client == "gemini":
        text = expand(text, r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", user_env)
    elif client == "vscode":
        assert [i["id"] for i in json.loads(text)["inputs"]] == [VSCODE_INPUT]
        text = expand(text, r"\$\{input:([\w-]+)\}", {VSCODE_INPUT: key})
    config = json.loads(text)
    entry = (config["servers"] if client == "vscode" else config["mcpServers"])[NAME]
    if "command" in entry:
        if entry["command"] == "npx":
            return mcp_remote(entry["command"], entry["args"], entry.get("env", {}))
        return Launch(command=[entry["command"], *entry["args"]], env=entry.get("env", {}))
    url = entry.get("url") or entry.get("serverUrl") or entry["httpUrl"]
    return Launch(url=url, headers=entry["headers"])


@asynccontextmanager
async def reach(launch: Launch, home: Path, log: Path) -> AsyncIterator[SdkClient]:
    if launch.url:
        async with sdk_client(launch.url, headers=launch.headers) as client:
            yield client
        return
    base = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    # the user's uv cache (for a uvx form), which is not under the test's HOME
    base["UV_CACHE_DIR"] = os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    base.update({k: v for k, v in os.environ.items() if k in ("SSL_CERT_FILE", "SSL_CERT_DIR")})
    workdir = home / "elsewhere"  # not the repository: the command must work from anywhere
    workdir.mkdir(exist_ok=True)
    params = StdioServerParameters(
        command=launch.command[0],
        args=launch.command[1:],
        env={**base, "SCS_LOG_LEVEL": "WARNING", **launch.env},
        cwd=str(workdir),
    )
    with log.open("w") as errlog:
        async with SdkClient(stdio_client(params, errlog=errlog)) as client:
            yield client


@asynccontextmanager
async def shared_server(home: Path) -> AsyncIterator[Services]:
    settings = Settings(_env_file=None, data_dir=home / "data" / "shared-context")  # type: ignore[call-arg]
    async with open_services(settings) as services:
        yield services


@pytest.mark.parametrize("transport", ["stdio", "http"])
@pytest.mark.parametrize("client", CLIENTS)
async def test_printed_form_starts_and_works_without_a_token(
    tmp_path: Path, client: str, transport: str
) -> None:
    await check_form(tmp_path, client, transport)


async def test_uvx_form_works_from_any_directory(tmp_path: Path) -> None:
    """``--command "uvx --from <this checkout> scs"``: nothing installed, uv builds and runs
    it (cached after the first run)."""
    if shutil.which("uvx") is None:
        pytest.skip("uvx is not on PATH")
    root = Path(__file__).resolve().parents[2]
    await check_form(tmp_path, "gemini", "stdio", "--command", f"uvx --from {root} scs")


async def check_form(tmp_path: Path, client: str, transport: str, *options: str) -> None:
    home = tmp_path / "home"
    kind = client.split("-")[0]
    agent_id = f"{kind}-1"
    async with shared_server(home) as services:
        _, key = await services.auth.keys.create("for-client", AGENT_CEILING, [agent_id])
        async with serve_http(services) as url:
            code, out, err = scs(home, "client-config", client, "--transport", transport,
                                 "--url", url, *options)  # fmt: skip
            assert code == 0, err
            assert key not in out and "auth_token" not in out and "Bearer" not in out
            user_env = {"PATH": os.environ["PATH"], "SCS_API_KEY": key}
            launch = launch_for(client, transport, out, user_env)
            async with reach(launch, home, tmp_path / "client.log") as connected:
                tools = {t.name for t in (await connected.list_tools()).tools}
                assert {"create_session", "add_message", "get_messages"} <= tools
                sid = (await sdk_call(connected, "create_session", purpose=client))["session_id"]
                await sdk_call(connected, "add_message", session_id=sid, content="hi")
                body = await sdk_call(connected, "get_messages", session_id=sid)
    assert [(m["sender"], m["sender_type"]) for m in body["messages"]] == [(agent_id, kind)]


def test_both_forms_by_default_and_options_passed_on(tmp_path: Path) -> None:
    code, out, _ = scs(tmp_path, "client-config", "cursor", "--agent-id", "cur-7",
                       "--agent-type", "cursor", "--toolsets", "core,search")  # fmt: skip
    assert code == 0
    assert out.count("# stdio") == 1 and out.count("# http") == 1
    stdio, http = out.split("\n\n# http")
    stdio_env = json.loads(stdio.split("\n", 1)[1])["mcpServers"][NAME]["env"]
    assert stdio_env["SCS_AGENT_ID"] == "cur-7" and stdio_env["SCS_TOOLSETS"] == "core,search"
    headers = json.loads(http.split("\n", 1)[1])["mcpServers"][NAME]["headers"]
    assert headers["X-Agent-Id"] == "cur-7" and headers["X-SCS-Toolsets"] == "core,search"
    code, out, _ = scs(tmp_path, "client-config", "codex", "--transport", "stdio",
                       "--command", "uvx --from shared-context-server scs")  # fmt: skip
    entry = tomllib.loads(out)["mcp_servers"][NAME]
    assert [entry["command"], *entry["args"]] == shlex.split(
        "uvx --from shared-context-server scs serve --transport stdio"
    )
    assert scs(tmp_path, "client-config", "cursor", "--transport", "sse")[0] == 2


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_blocks(language: str) -> list[str]:
    section = README.read_text().split("## Connect a client", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def test_readme_connect_section_is_what_client_config_prints(tmp_path: Path) -> None:
    """The README's commands work when copied: they are the printed forms (the stdio command
    found with ``command -v scs``, the default URL and agent ids)."""

    def printed(client: str, transport: str) -> str:
        code, out, err = scs(tmp_path, "client-config", client, "--transport", transport)
        assert code == 0, err
        return out.strip()

    shell = [line for block in readme_blocks("bash") for line in block.splitlines()]
    claude_lines = [line for line in shell if line.startswith("claude mcp add")]
    assert len(claude_lines) == 2
    env = {"PATH": os.environ["PATH"], "SCS_API_KEY": "scs_example"}
    stdio_readme, http_readme = (shell_argv(line, env) for line in claude_lines)
    assert stdio_readme == shell_argv(printed("claude-code", "stdio"), env)
    assert http_readme == shell_argv(printed("claude-code", "http"), env)
    cursor, vscode = (json.loads(block) for block in readme_blocks("json"))
    assert cursor == json.loads(printed("cursor", "http"))
    assert vscode == json.loads(printed("vscode", "http"))
