"""``scs status``, ``scs docs``, ``scs bench``: operator commands."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Annotated

import httpx
import typer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from shared_context.bootstrap import open_services
from shared_context.config import Settings
from shared_context.mcp.server import build_mcp
from shared_context.mcp.tools.admin import tool_docs
from shared_context.services import docs as docs_service
from shared_context.services.first_start import GENERATED_KEYS_FILE

KEY_FIGURES = (
    "scs_database_rows",
    "scs_database_writes_last_24h",
    "scs_database_size_bytes",
    "scs_active_agents",
    "scs_locks_held",
    "scs_subscriptions",
    "scs_migration_should_migrate",
)


def generated_key(data_dir: Path, name: str) -> str | None:
    """A key from the data directory's generated key file (written 0600 on first start)."""
    try:
        lines = (data_dir / GENERATED_KEYS_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() == name and value.strip():
            return value.strip()
    return None


def status(
    url: Annotated[
        str | None, typer.Option(help="Server base URL (default: from SCS_HOST/SCS_PORT).")
    ] = None,
    admin_key: Annotated[
        str | None,
        typer.Option(
            help="Admin API key (default: $SCS_ADMIN_API_KEY, else the generated key in the "
            "data directory)."
        ),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory.")] = None,
) -> None:
    """Health and key figures of a running server."""
    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    base = (url or f"http://{settings.host}:{settings.port}").rstrip("/")
    try:
        health = httpx.get(f"{base}/health", timeout=5)
    except httpx.HTTPError as exc:
        typer.echo(f"unreachable: {base} ({type(exc).__name__})", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"health: {health.status_code} {health.text}")
    configured = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    key = admin_key or configured or generated_key(settings.data_dir, "SCS_ADMIN_API_KEY")
    headers = {"X-API-Key": key} if key else {}
    metrics = httpx.get(f"{base}/metrics", headers=headers, timeout=10)
    if metrics.status_code != 200:
        typer.echo(f"metrics: HTTP {metrics.status_code} (pass --admin-key for figures)")
        raise typer.Exit(0 if health.status_code == 200 else 1)
    for family in text_string_to_metric_families(metrics.text):
        if family.name in KEY_FIGURES:
            for sample in family.samples:
                label = ",".join(sample.labels.values())
                name = family.name.removeprefix("scs_") + (f"[{label}]" if label else "")
                typer.echo(f"{name:<32} {sample.value:g}")
    if health.status_code != 200:
        raise typer.Exit(1)


def docs(
    output: Annotated[Path, typer.Option(help="File to write.")] = Path("docs/api-reference.md"),
    fmt: Annotated[str, typer.Option("--format", help="markdown, json or openapi.")] = "markdown",
) -> None:
    """Write the API reference generated from the live tool registry."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(asyncio.run(render_reference(fmt)))
    typer.echo(f"wrote {output}")


async def render_reference(fmt: str = "markdown") -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            data_dir=Path(tmp),
            database_url="",
            api_key=SecretStr(secrets.token_urlsafe(24)),
        )
        async with open_services(settings) as services:
            body = docs_service.render(await tool_docs(build_mcp(services)), fmt, True)
    document = body.documentation
    return document if isinstance(document, str) else json.dumps(document, indent=2) + "\n"


def bench(
    json_out: Annotated[Path, typer.Option(help="Where to save the figures.")] = Path(
        "bench/out/suite.json"
    ),
    iterations: Annotated[int, typer.Option(help="Calls per tool, single agent.")] = 200,
    ops_per_agent: Annotated[
        int, typer.Option(help="Operations per agent per phase (at least).")
    ] = 20,
    min_calls: Annotated[
        int,
        typer.Option(help="Calls of the smallest phase at least (all phases: same ops per agent)."),
    ] = 2000,
    agents: Annotated[str, typer.Option(help="Comma-separated agent counts.")] = "25,100,200",
    search_sizes: Annotated[
        str, typer.Option(help="Comma-separated session sizes of the search phase ('' skips).")
    ] = "1000,100000",
    search_calls: Annotated[int, typer.Option(help="Search calls per size and transport.")] = 200,
) -> None:
    """Run the benchmark suite against an embedded server and print the table."""
    from shared_context.benchmark.suite import main as run_suite

    phases = tuple(int(n) for n in agents.split(",") if n.strip())
    sizes = tuple(int(n) for n in search_sizes.split(",") if n.strip())
    run_suite(
        json_out,
        iterations=iterations,
        phases=phases,
        ops_per_agent=ops_per_agent,
        min_calls=min_calls,
        search_sizes=sizes,
        search_calls=search_calls,
    )
