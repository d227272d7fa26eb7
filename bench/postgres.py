"""25 agents, mixed workload, against real ``scs serve`` processes: SQLite (one instance) beside
PostgreSQL with one and with two instances sharing one schema. Prints a table and JSON.

    SCS_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        uv run python -m bench.postgres [--seconds 10] [--agents 25] [--json bench/out/pg.json]

Each agent has its own MCP connection (Streamable HTTP) to one instance (agents are spread over
the instances) and loops until time is up over: add_message 30 %, get_messages 40 %,
get_session 15 %, list_sessions 15 %, on one of five shared sessions. The PostgreSQL runs use
a fresh schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastmcp import Client

AGENT_KEY = "bench-agent-key-0123456789abcdef"
ADMIN_KEY = "bench-admin-key-0123456789abcdef"
MIX = [("add_message", 30), ("get_messages", 40), ("get_session", 15), ("list_sessions", 15)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(data_dir: Path, env_extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCS_")}
    env.update(
        SCS_API_KEY=AGENT_KEY,
        SCS_ADMIN_API_KEY=ADMIN_KEY,
        SCS_DATA_DIR=str(data_dir),
        SCS_LOG_LEVEL="WARNING",
        **env_extra,
    )
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared_context.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/mcp"
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"instance did not start; see {data_dir / 'serve.log'}")


async def tool(client: Client, name: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(name, args, raise_on_error=False)
    if result.is_error or not result.structured_content:
        raise RuntimeError(f"{name} failed: {result.structured_content or result.content}")
    return result.structured_content


async def agent(
    n: int,
    url: str,
    sessions: list[str],
    go: asyncio.Event,
    ready: list[Any],
    window: list[float],
    lat: dict[str, list[float]],
) -> int:
    """Connect and log in, wait for the common start, then loop until the window closes."""
    rng = random.Random(n)
    names, weights = zip(*MIX, strict=True)
    done = 0
    async with Client(url) as client:
        login = await tool(
            client,
            "authenticate_agent",
            agent_id=f"agent{n}",
            agent_type="bench",
            api_key=AGENT_KEY,
        )
        token = login["token"]
        ready[0] += 1
        if ready[0] == ready[1]:
            ready[2].set()
        await go.wait()
        while time.monotonic() < window[1]:
            op = rng.choices(names, weights)[0]
            sid = rng.choice(sessions)
            args: dict[str, Any] = {"auth_token": token}
            if op == "add_message":
                args |= {"session_id": sid, "content": f"agent{n} note {done} " + "x" * 80}
            elif op in ("get_messages", "get_session"):
                args["session_id"] = sid
            started = time.perf_counter()
            await tool(client, op, **args)
            lat[op].append(time.perf_counter() - started)
            done += 1
    return done


async def run_config(urls: list[str], agents: int, seconds: float) -> dict[str, Any]:
    async with Client(urls[0]) as client:
        login = await tool(
            client, "authenticate_agent", agent_id="setup", agent_type="bench", api_key=AGENT_KEY
        )
        sessions = [
            (await tool(client, "create_session", purpose=f"bench {i}", auth_token=login["token"]))[
                "session_id"
            ]
            for i in range(5)
        ]
    lat: dict[str, list[float]] = defaultdict(list)
    go = asyncio.Event()
    window = [0.0, 0.0]
    ready: list[Any] = [0, agents, asyncio.Event()]
    tasks = [
        asyncio.create_task(agent(i, urls[i % len(urls)], sessions, go, ready, window, lat))
        for i in range(agents)
    ]
    await asyncio.wait_for(ready[2].wait(), 300)  # every agent connected and logged in
    window[:] = [time.monotonic(), time.monotonic() + seconds]
    go.set()
    counts = await asyncio.gather(*tasks)
    elapsed = time.monotonic() - window[0]
    every = sorted(x for values in lat.values() for x in values)
    return {
        "ops": sum(counts),
        "seconds": round(elapsed, 2),
        "throughput_ops_s": round(sum(counts) / elapsed, 1),
        "p50_ms": pct(every, 50),
        "p95_ms": pct(every, 95),
        "per_op_p95_ms": {op: pct(sorted(v), 95) for op, v in sorted(lat.items())},
    }


def pct(values: list[float], p: int) -> float:
    if not values:
        return 0.0
    return round(1000 * values[min(len(values) - 1, int(len(values) * p / 100))], 2)


async def new_schema(pg_url: str) -> str:
    name = f"scs_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await conn.close()
    return name


async def drop(pg_url: str, name: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


def measure(
    label: str, envs: list[dict[str, str]], agents: int, seconds: float, base: Path
) -> dict[str, Any]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        urls = []
        for i, env in enumerate(envs):
            proc, url = start(base / f"{label}-{i}", env)
            procs.append(proc)
            urls.append(url)
        result = asyncio.run(run_config(urls, agents, seconds))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    return {"config": label, "instances": len(envs), "agents": agents, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=25)
    parser.add_argument("--json", type=Path, default=Path("bench/out/postgres.json"))
    args = parser.parse_args()
    pg_url = os.environ.get("SCS_BENCH_POSTGRES_URL") or os.environ.get("SCS_TEST_POSTGRES_URL")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        rows.append(measure("sqlite", [{}], args.agents, args.seconds, base))
        if pg_url:
            for count in (1, 2):
                schema = asyncio.run(new_schema(pg_url))
                try:
                    env = {"SCS_DATABASE_URL": pg_url, "SCS_DATABASE_SCHEMA": schema}
                    rows.append(
                        measure(
                            f"postgres-x{count}", [env] * count, args.agents, args.seconds, base
                        )
                    )
                finally:
                    asyncio.run(drop(pg_url, schema))
        else:
            print("SCS_BENCH_POSTGRES_URL unset: PostgreSQL rows skipped", file=sys.stderr)
    print(f"{'config':<14}{'inst':>5}{'agents':>7}{'ops':>8}{'ops/s':>9}{'p50 ms':>9}{'p95 ms':>9}")
    for r in rows:
        print(
            f"{r['config']:<14}{r['instances']:>5}{r['agents']:>7}{r['ops']:>8}"
            f"{r['throughput_ops_s']:>9}{r['p50_ms']:>9}{r['p95_ms']:>9}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
