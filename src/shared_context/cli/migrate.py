"""``scs migrate``: copy the embedded SQLite database into PostgreSQL for scale-out."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared_context.cli.errors import command_failed
from shared_context.config import Settings
from shared_context.domain.errors import SharedContextError
from shared_context.storage.transfer import TransferReport, migrate_sqlite_to_postgres


def default_source(data_dir: Path | None) -> Path:
    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    url = settings.resolved_database_url()
    if not url.startswith("sqlite:///"):
        raise typer.BadParameter("the configured database is not SQLite; pass --from PATH")
    return Path(url.removeprefix("sqlite:///"))


def migrate(
    to: Annotated[str, typer.Option("--to", help="Target: postgresql://user@host:port/db.")],
    source: Annotated[
        Path | None,
        typer.Option("--from", help="SQLite database file (default: the configured one)."),
    ] = None,
    schema: Annotated[
        str, typer.Option(help="PostgreSQL schema to fill (created if missing; default public).")
    ] = "",
    batch_size: Annotated[int, typer.Option(min=1, max=50_000, help="Rows per batch.")] = 1000,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory.")] = None,
) -> None:
    """Copy everything from SQLite into PostgreSQL (ids kept; safe to run again)."""
    if not to.startswith(("postgresql://", "postgres://")):
        raise typer.BadParameter("--to must be a postgresql:// URL")
    path = source if source is not None else default_source(data_dir)
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = int(bar.add_task(table, total=max(total, 1)))
            bar.update(tasks[table], completed=done if total else 1)  # type: ignore[arg-type]

        try:
            report = asyncio.run(
                migrate_sqlite_to_postgres(
                    path, to, schema=schema, batch_size=batch_size, progress=progress
                )
            )
        except SharedContextError as exc:
            raise command_failed(
                exc, lambda line: console.print(line, style="red", markup=False)
            ) from exc
    show(console, report)
    if not report.ok:
        console.print("[red]Verification failed[/red]: counts or sampled rows differ (see above).")
        raise typer.Exit(1)
    console.print("[green]Migration verified[/green]: every table's count and sample match.")


def show(console: Console, report: TransferReport) -> None:
    table = Table(title="scs migrate")
    for column in ("table", "source rows", "target rows", "sample", "ok"):
        table.add_column(column)
    for t in report.tables:
        sample = "match" if not t.sample_mismatches else f"{len(t.sample_mismatches)} differ"
        table.add_row(
            t.name, str(t.source_rows), str(t.target_rows), sample, "yes" if t.ok else "NO"
        )
    console.print(table)
    if report.skipped:
        console.print(f"Not copied (SQLite-only): {', '.join(report.skipped)}")
