"""Memory benchmark: p50/p95 of set_memory, get_memory and list_memory (100 keys) on the service
layer, in-process (fastmcp.Client on the server object) and over real Streamable HTTP on
127.0.0.1, beside the seed's target (memory operations < 10 ms p95). Prints a table; writes
bench/out/memory.json.

    uv run python -m bench.memory [--iterations 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastmcp import Client
from pydantic import SecretStr

from shared_context.bootstrap import build_http_app, open_services
from shared_context.config import Settings
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services

TARGET_MS = 10.0
LIST_KEYS = 100
AGENT_KEY = "bench-agent-key-0123456789abcdef"
OUT = Path(__file__).resolve().parent / "out" / "memory.json"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def timed(fn: Callable[[], Awaitable[Any]], iterations: int) -> dict[str, float]:
    for _ in range(min(20, iterations)):  # warm-up: caches, JIT-free but connection setup
        await fn()
    samples: list[float] = []
    for _ in range(iterations):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(percentile(samples, 0.95), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "n": len(samples),
    }


async def measure(client: Client, token: str, iterations: int, tag: str) -> dict[str, Any]:
    async def ok(tool: str, **args: Any) -> None:
        result = await client.call_tool(tool, {**args, "auth_token": token}, raise_on_error=False)
        if result.is_error:
            raise RuntimeError(f"{tool} failed: {result.structured_content}")

    for i in range(LIST_KEYS):
        await ok("set_memory", key=f"{tag}/list/{i:03d}", value={"i": i, "pad": "x" * 64})
    counter = iter(range(10**9))
    value = {"state": "working", "step": 3, "notes": ["a", "b", "c"], "pad": "y" * 200}
    return {
        "set_memory": await timed(
            lambda: ok("set_memory", key=f"{tag}/set/{next(counter) % 50}", value=value),
            iterations,
        ),
        "get_memory": await timed(lambda: ok("get_memory", key=f"{tag}/list/042"), iterations),
        "list_memory_100": await timed(
            lambda: ok("list_memory", prefix=f"{tag}/list/", limit=LIST_KEYS), iterations
        ),
    }


async def measure_service(app: Services, iterations: int) -> dict[str, Any]:
    """The same operations on the service layer (token check included, no MCP framing), to
    separate our own cost from the protocol's."""
    token = (await app.auth.authenticate("bench-svc", "bench", AGENT_KEY, None)).token

    async def caller() -> Any:
        return await app.auth.resolve(token)

    who = await caller()
    for i in range(LIST_KEYS):
        await app.memory.set(who, f"svc/list/{i:03d}", {"i": i, "pad": "x" * 64})
    counter = iter(range(10**9))
    value = {"state": "working", "step": 3, "notes": ["a", "b", "c"], "pad": "y" * 200}

    async def set_one() -> None:
        await app.memory.set(await caller(), f"svc/set/{next(counter) % 50}", value)

    async def get_one() -> None:
        await app.memory.get(await caller(), "svc/list/042")

    async def list_all() -> None:
        await app.memory.list(await caller(), prefix="svc/list/", limit=LIST_KEYS)

    return {
        "set_memory": await timed(set_one, iterations),
        "get_memory": await timed(get_one, iterations),
        "list_memory_100": await timed(list_all, iterations),
    }


async def login(client: Client, agent_id: str) -> str:
    result = await client.call_tool(
        "authenticate_agent",
        {"agent_id": agent_id, "agent_type": "bench", "api_key": AGENT_KEY},
    )
    assert result.structured_content is not None
    token: str = result.structured_content["token"]
    return token


async def over_http(app: Services, iterations: int) -> dict[str, Any]:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only then;
    # without it every keep-alive response stalls ~40 ms on delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(build_http_app(app), log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:
                await asyncio.sleep(0.01)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            token = await login(client, "bench-http")
            return await measure(client, token, iterations, "http")
    finally:
        server.should_exit = True
        await task
        sock.close()


async def run(iterations: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(tmp),
            api_key=SecretStr(AGENT_KEY),
            jwt_secret=SecretStr("bench-jwt-secret-0123456789abcdef0123456789"),
        )
        async with open_services(settings) as app:
            service = await measure_service(app, iterations)
            async with Client(build_mcp(app)) as client:
                token = await login(client, "bench-inproc")
                in_process = await measure(client, token, iterations, "inproc")
            http = await over_http(app, iterations)
    return {
        "benchmark": "memory",
        "target_p95_ms": TARGET_MS,
        "iterations": iterations,
        "list_keys": LIST_KEYS,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "results": {"service": service, "in_process": in_process, "http": http},
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{'operation':<18} {'transport':<11} {'p50 ms':>8} {'p95 ms':>8} {'target':>8}  ok",
        "-" * 62,
    ]
    for transport, ops in report["results"].items():
        for op, figures in ops.items():
            verdict = "yes" if figures["p95_ms"] < report["target_p95_ms"] else "NO"
            lines.append(
                f"{op:<18} {transport:<11} {figures['p50_ms']:>8.2f} {figures['p95_ms']:>8.2f} "
                f"{'< ' + str(int(report['target_p95_ms'])):>8}  {verdict}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    report = asyncio.run(run(max(1, min(args.iterations, 5000))))
    print(table(report))
    print(f"(load average {report['load_average_1m']} on {report['cpus']} CPUs)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {OUT}")


if __name__ == "__main__":
    main()
