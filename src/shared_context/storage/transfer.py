"""Copying a SQLite database into PostgreSQL (``scs migrate``), in batches, re-runnably.

Every table that exists on both sides is copied with the columns both sides have, parents
before children (PostgreSQL's foreign keys decide the order), rows in rowid order so a
message's parent always precedes it. Ids are preserved; inserts use ``ON CONFLICT DO NOTHING``
so an interrupted copy can simply be run again; identity sequences are then moved past the
largest id; finally row counts are compared and a sample of rows is compared value by value.
The source is opened read-only and never changed. SQLite-only tables (the FTS5 index) are
skipped: PostgreSQL builds its own indexes from the copied rows.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared_context.domain.errors import InvalidInput, StorageError
from shared_context.storage.migrations import load
from shared_context.storage.postgres.engine import quote_ident
from shared_context.storage.postgres.store import PostgresStore

Progress = Callable[[str, int, int], None]
SKIPPED = frozenset({"schema_version"})
SAMPLE_ROWS = 50


@dataclass
class TableReport:
    name: str
    source_rows: int
    target_rows: int = 0
    copied: int = 0
    sample_mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.target_rows == self.source_rows and not self.sample_mismatches


@dataclass
class TransferReport:
    tables: list[TableReport]
    skipped: list[str]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)


@dataclass(frozen=True)
class _Column:
    name: str
    pg_type: str


def _open_source(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise InvalidInput(f"No SQLite database at {path}.")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def _source_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: [r[1] for r in conn.execute(f"PRAGMA table_info({quote_ident(n)})")] for n in names}


async def _target_tables(conn: Any) -> dict[str, list[_Column]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    out: dict[str, list[_Column]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(_Column(r[1], r[2]))
    return out


async def _parent_order(conn: Any, tables: list[str]) -> list[str]:
    """Tables ordered so every foreign key points at a table copied earlier."""
    edges = await conn.fetch(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE c.contype = 'f' AND n.nspname = current_schema()"
    )
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in edges:
        child, parent = child.split(".")[-1].strip('"'), parent.split(".")[-1].strip('"')
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = sorted(t for t, ps in parents.items() if not ps - set(ordered))
        if not ready:
            raise StorageError(f"Foreign keys form a cycle among {sorted(parents)}.")
        for t in ready:
            ordered.append(t)
            del parents[t]
    return ordered


def _convert(value: Any, pg_type: str) -> Any:
    if value is None:
        return None
    if pg_type == "boolean":
        return bool(value)
    if pg_type in ("double precision", "real", "numeric"):
        return float(value)
    if pg_type in ("bigint", "integer", "smallint"):
        return int(value)
    if pg_type in ("text", "character varying", "jsonb", "json"):
        return value if isinstance(value, str) else str(value)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), abs_tol=1e-6)
    return bool(a == b)


async def copy_sqlite_to_postgres(
    source: Path,
    target: PostgresStore,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> TransferReport:
    """Copy every shared table from ``source`` into the started ``target`` store."""
    if not 1 <= batch_size <= 50_000:
        raise InvalidInput("batch_size must be 1-50000.")
    src = _open_source(source)
    try:
        return await _copy(src, target, batch_size, progress or (lambda *_: None))
    finally:
        src.close()


async def _copy(
    src: sqlite3.Connection, target: PostgresStore, batch_size: int, progress: Progress
) -> TransferReport:
    source_tables = _source_tables(src)
    if "schema_version" in source_tables:
        version = src.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        latest = load("postgres")[-1].version
        if int(version) > latest:
            raise InvalidInput(
                f"The SQLite database has schema version {version}, newer than this server "
                f"understands ({latest}). Upgrade shared-context-server first."
            )
    async with target.connection() as conn:
        target_tables = await _target_tables(conn)
        shared = [t for t in source_tables if t in target_tables and t not in SKIPPED]
        order = await _parent_order(conn, shared)
    skipped = sorted(set(source_tables) - set(shared) - SKIPPED)
    reports = []
    for table in order:
        wanted = set(source_tables[table])
        columns = [c for c in target_tables[table] if c.name in wanted]
        reports.append(await _copy_table(src, target, table, columns, batch_size, progress))
    await _reset_sequences(target)
    for report in reports:
        columns = [
            c for c in target_tables[report.name] if c.name in set(source_tables[report.name])
        ]
        await _verify(src, target, report, columns)
    return TransferReport(reports, skipped)


async def _copy_table(
    src: sqlite3.Connection,
    target: PostgresStore,
    table: str,
    columns: list[_Column],
    batch_size: int,
    progress: Progress,
) -> TableReport:
    total = int(src.execute(f"SELECT COUNT(*) FROM {quote_ident(table)}").fetchone()[0])
    report = TableReport(table, total)
    names = ", ".join(quote_ident(c.name) for c in columns)
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    insert = f"INSERT INTO {quote_ident(table)} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    select = (
        f"SELECT rowid, {names} FROM {quote_ident(table)} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    last, done = -(2**63), 0
    progress(table, 0, total)
    while True:
        batch = await asyncio.to_thread(_fetch, src, select, (last, batch_size))
        if not batch:
            break
        last = batch[-1][0]
        values = [
            tuple(_convert(v, c.pg_type) for v, c in zip(row[1:], columns, strict=True))
            for row in batch
        ]
        async with target.transaction() as conn:
            await conn.executemany(insert, values)
        done += len(batch)
        report.copied = done
        progress(table, done, total)
    return report


def _fetch(src: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    return src.execute(sql, params).fetchall()


async def _reset_sequences(target: PostgresStore) -> None:
    async with target.transaction() as conn:
        # Identity columns and serial ones (a nextval default) alike.
        identities = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')"
        )
        for table, column in identities:
            t, col = quote_ident(table), quote_ident(column)
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence($1, $2), "
                f"COALESCE((SELECT MAX({col}) FROM {t}), 0) + 1, false)",
                t,
                column,
            )


async def _verify(
    src: sqlite3.Connection, target: PostgresStore, report: TableReport, columns: list[_Column]
) -> None:
    table = quote_ident(report.name)
    names = ", ".join(quote_ident(c.name) for c in columns)
    async with target.connection() as conn:
        report.target_rows = int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}"))
        key = await conn.fetch(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary",
            table,
        )
        if len(key) != 1:
            return
        pk = key[0][0]
        pk_at = [c.name for c in columns].index(pk)
        sample = src.execute(
            f"SELECT {names} FROM {table} ORDER BY random() LIMIT {SAMPLE_ROWS}"
        ).fetchall()
        for row in sample:
            theirs = await conn.fetchrow(
                f"SELECT {names} FROM {table} WHERE {quote_ident(pk)} = $1",
                _convert(row[pk_at], columns[pk_at].pg_type),
            )
            mine = [_convert(v, c.pg_type) for v, c in zip(row, columns, strict=True)]
            if theirs is None or not all(_same(a, b) for a, b in zip(mine, theirs, strict=True)):
                report.sample_mismatches.append(str(row[pk_at]))


async def migrate_sqlite_to_postgres(
    source: Path,
    url: str,
    *,
    schema: str = "",
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> TransferReport:
    """Open (and migrate) the PostgreSQL target at ``url``, copy ``source`` into it, close."""
    _open_source(source).close()  # refuse a wrong source before touching the target
    target = PostgresStore(url, schema=schema, pool_max=2)
    await target.start()
    try:
        return await copy_sqlite_to_postgres(
            source, target, batch_size=batch_size, progress=progress
        )
    finally:
        await target.close()
