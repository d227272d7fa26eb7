"""Core benchmark: latency of the core tools in-process and over real HTTP, beside the MCP ping
round trip of the same run and the seed's targets (SPEC §11); write throughput of the
group-commit writer with 1, 8 and 64 concurrent writers.

Run: ``uv run python -m bench.core`` (about a minute; ``--quick`` for a few seconds).
Prints a table and writes ``bench/out/core.json``. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastmcp import Client as FastClient
from mcp.client.client import Client as SdkClient
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPDeprecationWarning
from pydantic import SecretStr

from shared_context.bootstrap import open_services
from shared_context.config import Settings
from shared_context.domain.clock import SystemClock
from shared_context.domain.models import AuditEvent, NewMessage, Session, Visibility
from shared_context.mcp.server import build_mcp
from shared_context.storage.sqlite.store import SqliteStore

AGENT_KEY = "bench-agent-key-0123456789abcdef"
ADMIN_KEY = "bench-admin-key-0123456789abcdef"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789"
OUT = Path(__file__).resolve().parent / "out" / "core.json"

# SPEC §11, p95 in milliseconds; None where the seed gives no figure for that operation.
TARGETS_MS: dict[str, float | None] = {
    "ping": None,
    "authenticate": None,
    "token_validation": 5.0,
    "create_session": 10.0,
    "add_message": 20.0,
    "get_messages_50": 30.0,
}

CallTool = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Ping = Callable[[], Awaitable[object]]


@dataclass
class Config:
    samples: int = 200
    writes: int = 3000
    http: bool = True
    out: Path = OUT


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p95_ms": round(percentile(samples, 95), 3),
        "mean_ms": round(statistics.fmean(samples), 3) if samples else 0.0,
    }


async def timed(n: int, op: Callable[[int], Awaitable[object]]) -> list[float]:
    out: list[float] = []
    for i in range(n):
        started = time.perf_counter()
        await op(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def tool_latencies(call: CallTool, ping: Ping, n: int) -> dict[str, dict[str, float]]:
    """The same sequence for every transport: warm up, then n samples of each operation."""
    auth = await call("authenticate_agent", {"agent_id": "bench", "api_key": AGENT_KEY})
    token = auth["token"]
    sid = (await call("create_session", {"purpose": "bench", "auth_token": token}))["session_id"]
    for i in range(50):  # a full page for get_messages(50)
        await call("add_message", {"session_id": sid, "content": f"seed {i}", "auth_token": token})

    async def quiet_ping() -> object:
        with warnings.catch_warnings():  # we know ping is legacy-only; that is the point
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            return await ping()

    for _ in range(5):
        await quiet_ping()
    results = {
        "ping": await timed(n, lambda i: quiet_ping()),
        "authenticate": await timed(
            n,
            lambda i: call("authenticate_agent", {"agent_id": f"a{i}", "api_key": AGENT_KEY}),
        ),
        "create_session": await timed(
            n, lambda i: call("create_session", {"purpose": f"s{i}", "auth_token": token})
        ),
        "add_message": await timed(
            n,
            lambda i: call(
                "add_message", {"session_id": sid, "content": f"m{i}", "auth_token": token}
            ),
        ),
        "get_messages_50": await timed(
            n,
            lambda i: call("get_messages", {"session_id": sid, "limit": 50, "auth_token": token}),
        ),
    }
    return {name: summary(samples) for name, samples in results.items()}


def settings_for(data_dir: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        api_key=SecretStr(AGENT_KEY),
        admin_api_key=SecretStr(ADMIN_KEY),
        jwt_secret=SecretStr(JWT_SECRET),
    )


async def in_process(data_dir: Path, n: int) -> dict[str, dict[str, float]]:
    async with open_services(settings_for(data_dir)) as services:
        server = build_mcp(services)
        # ping left the protocol in 2026-07-28: it is measured on a legacy (initialize)
        # connection to the same server, beside the tools on a default (modern) connection.
        async with FastClient(server) as client, FastClient(server, mode="legacy") as legacy:

            async def call(tool: str, args: dict[str, Any]) -> dict[str, Any]:
                result = await client.call_tool(tool, args)
                content: dict[str, Any] | None = result.structured_content
                assert content is not None
                return content

            figures = await tool_latencies(call, legacy.ping, n)
        token = (await services.auth.authenticate("v", "bench", AGENT_KEY, None)).token
        figures["token_validation"] = summary(
            await timed(n, lambda i: services.auth.resolve(token))
        )
    return figures


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def http_server(data_dir: Path) -> AsyncIterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCS_")}
    env.update(
        SCS_DATA_DIR=str(data_dir),
        SCS_API_KEY=AGENT_KEY,
        SCS_ADMIN_API_KEY=ADMIN_KEY,
        SCS_JWT_SECRET=JWT_SECRET,
        SCS_LOG_LEVEL="WARNING",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared_context.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("benchmark server did not start")
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def over_http(data_dir: Path, n: int) -> dict[str, dict[str, float]]:
    async with http_server(data_dir) as url:
        http = create_mcp_http_client()
        async with (
            http,
            SdkClient(streamable_http_client(url, http_client=http)) as client,
            SdkClient(streamable_http_client(url, http_client=http), mode="legacy") as legacy,
        ):

            async def call(tool: str, args: dict[str, Any]) -> dict[str, Any]:
                result = await client.call_tool(tool, args)
                assert result.structured_content is not None
                body: dict[str, Any] = result.structured_content
                return body

            return await tool_latencies(call, legacy.send_ping, n)


async def writer_throughput(data_dir: Path, total: int) -> dict[str, dict[str, float]]:
    """Raw store.add_message calls from W concurrent writers, each awaiting its commit."""
    store = SqliteStore(data_dir / "writer.db")
    await store.start()
    clock = SystemClock()
    out: dict[str, dict[str, float]] = {}
    try:
        session = await store.create_session(
            Session("session_00000000000000aa", "w", {}, "bench", clock.now(), True),
            AuditEvent("create_session", "bench", "success", timestamp=clock.now()),
        )
        for writers in (1, 8, 64):
            per_writer = max(1, total // writers)
            before = store.stats()

            async def one_writer(w: int, per_writer: int = per_writer) -> None:
                for i in range(per_writer):
                    now = clock.now()
                    await store.add_message(
                        NewMessage(
                            session.session_id,
                            f"w{w}",
                            "bench",
                            f"{w}/{i}",
                            Visibility.PUBLIC,
                            {},
                            None,
                            now,
                        ),
                        AuditEvent("add_message", f"w{w}", "success", timestamp=now),
                    )

            started = time.perf_counter()
            await asyncio.gather(*(one_writer(w) for w in range(writers)))
            elapsed = time.perf_counter() - started
            after = store.stats()
            done = per_writer * writers
            batches = after["write_batches"] - before["write_batches"]
            out[str(writers)] = {
                "writes": done,
                "seconds": round(elapsed, 3),
                "writes_per_s": round(done / elapsed, 1),
                "batches": batches,
                "avg_batch": round(done / batches, 2) if batches else 0.0,
            }
    finally:
        await store.close()
    return out


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{'operation':<18}{'in-proc p50':>12}{'p95':>9}{'http p50':>11}{'p95':>9}"
        f"{'target p95':>12}",
    ]
    inproc: dict[str, dict[str, float]] = report["in_process"]
    http: dict[str, dict[str, float]] = report.get("http") or {}
    for name, target in TARGETS_MS.items():
        a = inproc.get(name, {})
        b = http.get(name, {})

        def cell(d: dict[str, float], key: str) -> str:
            return f"{d[key]:.2f}" if key in d else "-"

        lines.append(
            f"{name:<18}{cell(a, 'p50_ms'):>12}{cell(a, 'p95_ms'):>9}"
            f"{cell(b, 'p50_ms'):>11}{cell(b, 'p95_ms'):>9}"
            f"{('< ' + format(target, 'g')) if target else '-':>12}"
        )
    lines.append("")
    lines.append(f"{'writers':<10}{'writes':>8}{'writes/s':>12}{'avg batch':>11}")
    for writers, row in report["writer"].items():
        lines.append(
            f"{writers:<10}{row['writes']:>8}{row['writes_per_s']:>12.0f}{row['avg_batch']:>11}"
        )
    return "\n".join(lines)


async def run(config: Config) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="scs-bench-") as tmp:
        root = Path(tmp)
        report: dict[str, Any] = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "samples": config.samples,
            "targets_p95_ms": TARGETS_MS,
            "in_process": await in_process(root / "inproc", config.samples),
            "http": await over_http(root / "http", config.samples) if config.http else None,
            "writer": await writer_throughput(root / "writer", config.writes),
        }
    config.out.parent.mkdir(parents=True, exist_ok=True)
    config.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=200, help="samples per operation")
    parser.add_argument("--writes", type=int, default=3000, help="writes per writer run")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP server part")
    parser.add_argument("--quick", action="store_true", help="30 samples, 300 writes")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    config = Config(
        samples=30 if args.quick else args.samples,
        writes=300 if args.quick else args.writes,
        http=not args.no_http,
        out=args.out,
    )
    report = asyncio.run(run(config))
    print(table(report))
    print(f"\nJSON: {config.out}")


if __name__ == "__main__":
    main()
