"""``scs client-config <client>``: configuration snippets for MCP clients."""

from __future__ import annotations

import json
from typing import Annotated

import typer

CLIENTS = ("claude-code", "claude-desktop", "cursor", "vscode", "gemini", "codex", "windsurf")


def client_config(
    client: Annotated[str, typer.Argument(help=f"One of: {', '.join(CLIENTS)}.")],
    url: Annotated[str, typer.Option(help="Server URL.")] = "http://127.0.0.1:23456/mcp",
    key_env: Annotated[str, typer.Option(help="Env var that holds the API key.")] = "SCS_API_KEY",
) -> None:
    """Print how to register this server with an MCP client."""
    header = {"X-API-Key": f"${{{key_env}}}"}
    if client == "claude-code":
        typer.echo(
            f'claude mcp add --transport http shared-context {url} --header "X-API-Key: ${key_env}"'
        )
    elif client in ("claude-desktop", "windsurf"):
        typer.echo(
            json.dumps(
                {
                    "mcpServers": {
                        "shared-context": {
                            "command": "npx",
                            "args": [
                                "-y",
                                "mcp-remote",
                                url,
                                "--header",
                                f"X-API-Key:${{{key_env}}}",
                            ],
                        }
                    }
                },
                indent=2,
            )
        )
    elif client == "cursor":
        typer.echo(
            json.dumps(
                {"mcpServers": {"shared-context": {"url": url, "headers": header}}}, indent=2
            )
        )
    elif client == "vscode":
        typer.echo(
            json.dumps(
                {"servers": {"shared-context": {"type": "http", "url": url, "headers": header}}},
                indent=2,
            )
        )
    elif client == "gemini":
        typer.echo(
            json.dumps(
                {"mcpServers": {"shared-context": {"httpUrl": url, "headers": header}}}, indent=2
            )
        )
    elif client == "codex":
        typer.echo(
            "[mcp_servers.shared-context]\n"
            'command = "npx"\n'
            f'args = ["-y", "mcp-remote", "{url}", "--header", "X-API-Key:${key_env}"]'
        )
    else:
        typer.echo(f"Unknown client {client!r}; choose one of: {', '.join(CLIENTS)}.", err=True)
        raise typer.Exit(2)
