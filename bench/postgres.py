"""The 25-agent mixed workload (``shared_context.benchmark``) on SQLite (one instance) beside
PostgreSQL with one and with two ``scs serve`` instances sharing one schema. Table + JSON.

    SCS_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        uv run python -m bench.postgres [--agents 25] [--ops 20] [--json bench/out/postgres.json]

Agents are spread over the instances in turn; each PostgreSQL run uses a fresh schema that is
dropped afterwards. Server CPU per operation is summed over the instances.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg

from shared_context.benchmark.harness import ServerProcess
from shared_context.benchmark.report import table
from shared_context.benchmark.suite import concurrent
from shared_context.benchmark.workload import MIX


async def schema_sql(pg_url: str, sql: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def measure(label: str, envs: list[dict[str, str]], agents: int, ops: int) -> dict[str, Any]:
    with ExitStack() as stack:
        servers = [stack.enter_context(ServerProcess(env)) for env in envs]
        cpu_before = sum(s.cpu_seconds() for s in servers)
        result = asyncio.run(
            concurrent(servers[0], agents, ops, MIX, seed=7, urls=[s.url for s in servers])
        )
        cpu = sum(s.cpu_seconds() for s in servers) - cpu_before
    result["server_cpu_ms_per_op"] = round(1000 * cpu / max(1, result["calls"]), 3)
    return {"config": label, "instances": len(envs), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=25)
    parser.add_argument("--ops", type=int, default=20, help="operations per agent")
    parser.add_argument("--json", type=Path, default=Path("bench/out/postgres.json"))
    args = parser.parse_args()
    pg_url = os.environ.get("SCS_BENCH_POSTGRES_URL") or os.environ.get("SCS_TEST_POSTGRES_URL")
    rows = [measure("sqlite", [{}], args.agents, args.ops)]
    if pg_url:
        for count in (1, 2):
            schema = f"scs_bench_{secrets.token_hex(4)}"
            asyncio.run(schema_sql(pg_url, f'CREATE SCHEMA "{schema}"'))
            env = {"SCS_DATABASE_URL": pg_url, "SCS_DATABASE_SCHEMA": schema}
            try:
                rows.append(measure(f"postgres x{count}", [env] * count, args.agents, args.ops))
            finally:
                asyncio.run(schema_sql(pg_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    else:
        print("SCS_BENCH_POSTGRES_URL unset: PostgreSQL rows skipped", file=sys.stderr)
    headers = ["config", "inst", "agents", "calls", "ok %", "ops/s", "p50 ms", "p95 ms", "cpu/op"]
    print(
        table(
            headers,
            [
                [
                    r["config"],
                    r["instances"],
                    r["agents"],
                    r["calls"],
                    round(100 * r["success_rate"], 1),
                    r["throughput_ops_s"],
                    r["p50_ms"],
                    r["p95_ms"],
                    r["server_cpu_ms_per_op"],
                ]
                for r in rows
            ],
        )
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
