"""``scs keys list|create|revoke``: manage API keys in the configured database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer

from shared_context.bootstrap import open_services
from shared_context.cli.errors import command_failed
from shared_context.config import Settings
from shared_context.domain.bindings import describe
from shared_context.domain.errors import SharedContextError
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS

T = TypeVar("T")
CLI_ACTOR = "cli"  # key management is an operator action, recorded under this actor

app = typer.Typer(help="List, create and revoke API keys.", no_args_is_help=True)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run one command; a refusal (e.g. a duplicate name) is a message, not a traceback."""
    try:
        return asyncio.run(work)
    except SharedContextError as exc:
        raise command_failed(exc) from exc


@app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show every key (never its value)."""

    async def run() -> None:
        async with open_services(Settings()) as services:
            keys = await services.auth.keys.list()
        if as_json:
            typer.echo(json.dumps([k.to_dict() for k in keys], indent=2))
            return
        typer.echo(f"{'KEY ID':<18}  {'NAME':<32} {'CEILING':<18} {'STATE':<8} AGENTS")
        for key in keys:
            state = "revoked" if key.revoked_at else "active"
            perms = ",".join(sorted(p.value for p in key.permissions))
            typer.echo(
                f"{key.key_id:<18}  {key.name:<32} {perms:<18} {state:<8} {describe(key.agents)}"
            )

    _run(run())


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="A unique name for the key.")],
    admin: Annotated[bool, typer.Option(help="Ceiling read,write,admin.")] = False,
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", help="Bind the key to this agent id (repeatable)."),
    ] = None,
    agent_prefix: Annotated[
        list[str] | None,
        typer.Option(
            "--agent-prefix", help="Bind the key to agent ids starting with this (repeatable)."
        ),
    ] = None,
) -> None:
    """Create a key and print its value once. Without --agent/--agent-prefix it is a team key
    (any agent id); with them it can only act as those agents."""
    binding = [*(agent or []), *(f"{p}*" for p in agent_prefix or [])]

    async def run() -> None:
        async with open_services(Settings()) as services:
            key, plain = await services.auth.keys.create(
                name, ALL_PERMISSIONS if admin else AGENT_CEILING, binding
            )
            await services.audit.record(
                "api_key_created",
                None,
                agent_id=CLI_ACTOR,
                key=key.key_id,
                name=key.name,
                agents=list(key.agents),
            )
        typer.echo(f"Created {key.key_id} ({name}) for {describe(key.agents)}.")
        typer.echo("Its value is shown only now:")
        typer.echo(plain)

    _run(run())


@app.command()
def revoke(name_or_id: Annotated[str, typer.Argument(help="Key name or key id.")]) -> None:
    """Revoke a key; every token minted from it stops working."""

    async def run() -> bool:
        async with open_services(Settings()) as services:
            revoked = await services.auth.keys.revoke(name_or_id)
            if revoked:
                await services.audit.record(
                    "api_key_revoked", None, agent_id=CLI_ACTOR, key=name_or_id[:100]
                )
            return revoked

    if not _run(run()):
        typer.echo(f"No active key named or with id {name_or_id!r}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Revoked {name_or_id}.")
