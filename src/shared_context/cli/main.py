"""``scs`` / ``shared-context-server``: serve, keys, client-config, and operator commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared_context import heap
from shared_context.cli import client_config, operations
from shared_context.cli import keys as keys_cmd
from shared_context.cli import migrate as migrate_cmd
from shared_context.cli.errors import command_failed
from shared_context.config import Settings
from shared_context.domain.errors import SharedContextError
from shared_context.telemetry.logs import configure_logging

app = typer.Typer(
    name="scs",
    help="Shared Context Server: the shared blackboard for teams of AI agents (MCP).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(keys_cmd.app, name="keys")
app.command("client-config")(client_config.client_config)
app.command()(operations.status)
app.command()(operations.docs)
app.command()(operations.bench)
app.command("migrate")(migrate_cmd.migrate)


def settings_from(db: str | None, data_dir: Path | None) -> Settings:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if db is not None:
        overrides["database_url"] = db if "://" in db else f"sqlite:///{Path(db).resolve()}"
    return Settings(**overrides)  # type: ignore[arg-type]


@app.command()
def serve(
    transport: Annotated[str, typer.Option(help="http or stdio.")] = "http",
    host: Annotated[str | None, typer.Option(help="Listen address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default 23456).")] = None,
    db: Annotated[str | None, typer.Option(help="Database URL or SQLite file path.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory.")] = None,
    allow_remote: Annotated[
        bool, typer.Option(help="Allow listening beyond loopback with generated keys.")
    ] = False,
) -> None:
    """Run the server (Streamable HTTP at /mcp, or stdio)."""
    from shared_context.cli.serving import run_http, run_stdio

    settings = settings_from(db, data_dir)
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    if allow_remote:
        settings.allow_remote = True
    configure_logging(settings.log_level, settings.log_format)
    try:
        if transport == "stdio":
            heap.run(run_stdio(settings))
        elif transport == "http":
            heap.run(run_http(settings))
        else:
            raise typer.BadParameter("transport must be http or stdio")
    except SharedContextError as exc:
        raise command_failed(exc) from exc
    except KeyboardInterrupt:
        pass


def main() -> None:
    app()


if __name__ == "__main__":
    main()
