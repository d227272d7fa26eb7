"""``scs client-config <client>``: how to register this server with an MCP client.

Every client gets two forms, both using connection identity (no agent ever handles a token):

- stdio: the client spawns ``scs serve --transport stdio`` itself, with ``SCS_API_KEY``,
  ``SCS_AGENT_ID`` and ``SCS_AGENT_TYPE`` in its environment. The command is the absolute
  path of the installed console script, so it works from any directory (``--command``
  overrides it, e.g. ``"uvx --from shared-context-server scs"``).
- http: the client connects to a running ``scs serve`` and sends ``X-API-Key``,
  ``X-Agent-Id`` and ``X-Agent-Type`` on every request.

The API key is never printed: each form refers to the ``SCS_API_KEY`` environment variable
in the client's own syntax (``$VAR`` expanded by the shell for ``claude mcp add``,
``${env:VAR}`` for Cursor and Windsurf, ``${input:…}`` for VS Code, ``${VAR}`` for Gemini CLI
and mcp-remote, ``env_vars`` for Codex). Claude Desktop expands nothing: its form has a
placeholder to replace with the key.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer

CLIENTS = ("claude-code", "claude-desktop", "cursor", "vscode", "gemini", "codex", "windsurf")
TRANSPORTS = ("stdio", "http")
NAME = "shared-context"
DESKTOP_PLACEHOLDER = "<paste your SCS_API_KEY here>"
VSCODE_INPUT = "scs-api-key"
WHERE = {
    "claude-code": "run in a shell where SCS_API_KEY is set",
    "claude-desktop": "claude_desktop_config.json",
    "cursor": "~/.cursor/mcp.json or .cursor/mcp.json",
    "vscode": ".vscode/mcp.json",
    "gemini": "~/.gemini/settings.json or .gemini/settings.json",
    "codex": "~/.codex/config.toml",
    "windsurf": "~/.codeium/windsurf/mcp_config.json",
}


@dataclass(frozen=True)
class Identity:
    """What a form passes on: who the agent is, and which toolsets it sees."""

    agent_id: str
    agent_type: str
    key_env: str = "SCS_API_KEY"
    toolsets: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, key_ref: str) -> dict[str, str]:
        values = {self.key_env: key_ref, "SCS_AGENT_ID": self.agent_id}
        values["SCS_AGENT_TYPE"] = self.agent_type
        if self.toolsets:
            values["SCS_TOOLSETS"] = self.toolsets
        values.update(self.extra_env)
        return values

    def headers(self, key_ref: str) -> dict[str, str]:
        values = {"X-API-Key": key_ref, "X-Agent-Id": self.agent_id}
        values["X-Agent-Type"] = self.agent_type
        if self.toolsets:
            values["X-SCS-Toolsets"] = self.toolsets
        return values


def default_command() -> list[str]:
    """The installed console script, by absolute path (clients spawn it from anywhere); run
    through ``uvx`` (an environment in uv's cache, which uv may delete), the same ``uvx``
    line."""
    beside = Path(sys.executable).parent / "scs"
    if "archive-v" in str(beside):
        return ["uvx", "--from", uvx_source(), "scs"]
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("scs")
    return [found] if found else ["scs"]


def uvx_source() -> str:
    """Where uvx installed this package from: a local path or URL (PEP 610), else PyPI."""
    try:
        raw = metadata.distribution("shared-context-server").read_text("direct_url.json")
        url = str(json.loads(raw or "{}").get("url", ""))
    except (metadata.PackageNotFoundError, ValueError):
        url = ""
    if url.startswith("file://"):
        return url.removeprefix("file://")
    return url or "shared-context-server"


def _json(value: Any) -> str:
    return json.dumps(value, indent=2)


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _toml_table(values: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{_toml_str(k)} = {_toml_str(v)}" for k, v in values.items()) + " }"


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def mcp_remote_args(url: str, who: Identity) -> list[str]:
    """mcp-remote expands ``${VAR}`` in its arguments from its own environment."""
    args = ["-y", "mcp-remote", url]
    for name, value in who.headers(f"${{{who.key_env}}}").items():
        args += ["--header", f"{name}:{value}"]
    return args


def stdio_form(client: str, command: list[str], who: Identity) -> str:
    exe, args = command[0], [*command[1:], "serve", "--transport", "stdio"]
    if client == "claude-code":
        env = who.env(f"${who.key_env}")
        parts = ["claude", "mcp", "add", NAME]
        for key, value in env.items():
            quoted = f'"{value}"' if value.startswith("$") else shlex.quote(value)
            parts += ["-e", f"{key}={quoted}"]
        return " ".join([*parts, "--", *(shlex.quote(a) for a in [exe, *args])])
    if client == "codex":
        env = {k: v for k, v in who.env("").items() if k != who.key_env}
        return (
            f"[mcp_servers.{NAME}]\n"
            f"command = {_toml_str(exe)}\n"
            f"args = {_toml_list(args)}\n"
            f"env_vars = {_toml_list([who.key_env])}\n"
            f"env = {_toml_table(env)}\n"
        )
    key_ref = {
        "claude-desktop": DESKTOP_PLACEHOLDER,
        "cursor": f"${{env:{who.key_env}}}",
        "windsurf": f"${{env:{who.key_env}}}",
        "gemini": f"${{{who.key_env}}}",
        "vscode": f"${{input:{VSCODE_INPUT}}}",
    }[client]
    server: dict[str, Any] = {"command": exe, "args": args, "env": who.env(key_ref)}
    if client == "vscode":
        return _json({"inputs": [vscode_input()], "servers": {NAME: {"type": "stdio", **server}}})
    return _json({"mcpServers": {NAME: server}})


def http_form(client: str, url: str, who: Identity) -> str:
    if client == "claude-code":
        parts = ["claude", "mcp", "add", "--transport", "http", NAME, shlex.quote(url)]
        for name, value in who.headers(f"${who.key_env}").items():
            parts += ["--header", f'"{name}: {value}"']
        return " ".join(parts)
    if client == "claude-desktop":
        server = {
            "command": "npx",
            "args": mcp_remote_args(url, who),
            "env": {who.key_env: DESKTOP_PLACEHOLDER},
        }
        return _json({"mcpServers": {NAME: server}})
    if client == "codex":
        return (
            f"[mcp_servers.{NAME}]\n"
            'command = "npx"\n'
            f"args = {_toml_list(mcp_remote_args(url, who))}\n"
            f"env_vars = {_toml_list([who.key_env])}\n"
        )
    if client == "vscode":
        headers = who.headers(f"${{input:{VSCODE_INPUT}}}")
        server = {"type": "http", "url": url, "headers": headers}
        return _json({"inputs": [vscode_input()], "servers": {NAME: server}})
    key_ref = f"${{{who.key_env}}}" if client == "gemini" else f"${{env:{who.key_env}}}"
    url_field = {"cursor": "url", "windsurf": "serverUrl", "gemini": "httpUrl"}[client]
    return _json({"mcpServers": {NAME: {url_field: url, "headers": who.headers(key_ref)}}})


def vscode_input() -> dict[str, Any]:
    return {
        "type": "promptString",
        "id": VSCODE_INPUT,
        "description": "Shared Context Server API key",
        "password": True,
    }


def render(client: str, transport: str, *, url: str, command: list[str], who: Identity) -> str:
    if transport == "stdio":
        return stdio_form(client, command, who)
    return http_form(client, url, who)


def client_config(
    client: Annotated[str, typer.Argument(help=f"One of: {', '.join(CLIENTS)}.")],
    transport: Annotated[
        str | None,
        typer.Option(help="stdio or http; default: print both, each under a # heading."),
    ] = None,
    url: Annotated[str, typer.Option(help="Server URL (http form).")] = (
        "http://127.0.0.1:23456/mcp"
    ),
    agent_id: Annotated[str | None, typer.Option(help="Agent id (default: the client's name).")] = (
        None
    ),
    agent_type: Annotated[
        str | None, typer.Option(help="Agent type (default: derived from the client).")
    ] = None,
    toolsets: Annotated[
        str, typer.Option(help="Comma list of core, search, memory, coordination, admin.")
    ] = "",
    command: Annotated[
        str | None,
        typer.Option(help="Command that runs scs (stdio form); default: this installation's."),
    ] = None,
    key_env: Annotated[str, typer.Option(help="Env var that holds the API key.")] = "SCS_API_KEY",
) -> None:
    """Print how to register this server with an MCP client (stdio and HTTP forms)."""
    if client not in CLIENTS:
        typer.echo(f"Unknown client {client!r}; choose one of: {', '.join(CLIENTS)}.", err=True)
        raise typer.Exit(2)
    if transport is not None and transport not in TRANSPORTS:
        typer.echo("--transport must be stdio or http.", err=True)
        raise typer.Exit(2)
    kind = client.split("-")[0]
    who = Identity(
        agent_id=agent_id or f"{kind}-1", agent_type=agent_type or kind, key_env=key_env,
        toolsets=toolsets,
    )  # fmt: skip
    argv = shlex.split(command) if command else default_command()
    forms = [transport] if transport else list(TRANSPORTS)
    for n, form in enumerate(forms):
        text = render(client, form, url=url, command=argv, who=who)
        if transport is None:
            if n:
                typer.echo("")
            how = f"connects to `scs serve` at {url}" if form == "http" else "spawns the server"
            typer.echo(f"# {form} (the client {how}): {WHERE[client]}")
        typer.echo(text.rstrip("\n"))
