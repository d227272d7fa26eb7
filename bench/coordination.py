"""Coordination latencies over real Streamable HTTP (official MCP SDK clients).

- commit → wait_for_messages return: a waiter blocks in wait_for_messages; another agent posts;
  the time from the post's commit (the server publishes the event right after COMMIT) to the
  waiter's HTTP response arriving at the client.
- commit → subscription notification: subscribers on session://{id} (protocol 2025-11-25
  resources/subscribe and 2026-07-28 subscriptions/listen); commit to notification arrival.
- lock acquire / release round trips (coordinate_session_work lock / unlock).

The server runs in this process (uvicorn on 127.0.0.1, free port) so commit times can be read
off the event bus; clients and server share one event loop and the machine's CPUs, so the
figures are an upper bound for a dedicated server.

    uv run python -m bench.coordination [--posts 200] [--locks 200]

Prints a table and writes bench/out/coordination.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import mcp.types as mt
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning
from pydantic import SecretStr

from shared_context.bootstrap import build_http_app, open_services
from shared_context.config import Settings
from shared_context.events.bus import Event, EventKind
from shared_context.services.container import Services

AGENT_KEY = "bench-agent-key-0123456789abcdef"
OUT = Path(__file__).resolve().parent / "out" / "coordination.json"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0}

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(pick(0.95), 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


@asynccontextmanager
async def serve(app: Services) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(build_http_app(app), host="127.0.0.1", port=0, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@asynccontextmanager
async def client(url: str, token: str, **kwargs: Any) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), **kwargs) as connected,
    ):
        yield connected


async def body(c: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await c.call_tool(tool, args)
    assert isinstance(result.structured_content, dict), result
    return result.structured_content


async def timed(coro: Awaitable[dict[str, Any]]) -> tuple[dict[str, Any], float]:
    """The result and the moment it arrived."""
    result = await coro
    return result, time.perf_counter()


async def run(posts: int, locks: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=Path(tmp),
            api_key=SecretStr(AGENT_KEY),
            jwt_secret=SecretStr("bench-jwt-secret-0123456789abcdef0123456789"),
        )
        async with open_services(settings) as app, serve(app) as url:
            return await measure(app, url, posts, locks)


async def measure(app: Services, url: str, posts: int, locks: int) -> dict[str, Any]:
    async def token(agent: str) -> str:
        minted = await app.auth.authenticate(agent, "bench", AGENT_KEY, ["read", "write"])
        return str(minted.token)

    committed: dict[int, float] = {}

    def on_event(event: Event) -> None:
        if event.kind is EventKind.MESSAGE_ADDED and event.message_id is not None:
            committed[event.message_id] = time.perf_counter()

    app.bus.subscribe(on_event)
    legacy_inbox: asyncio.Queue[float] = asyncio.Queue()

    async def on_legacy(message: Any) -> None:
        if isinstance(message, mt.ResourceUpdatedNotification):
            legacy_inbox.put_nowait(time.perf_counter())

    async with AsyncExitStack() as stack:
        poster = await stack.enter_async_context(client(url, await token("poster")))
        waiter = await stack.enter_async_context(client(url, await token("waiter")))
        legacy = await stack.enter_async_context(
            client(url, await token("sub-legacy"), mode="legacy", message_handler=on_legacy)
        )
        modern = await stack.enter_async_context(client(url, await token("sub-listen")))
        sid = (await body(poster, "create_session", purpose="bench"))["session_id"]
        uri = f"session://{sid}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await legacy.subscribe_resource(uri)
        listen = await stack.enter_async_context(modern.listen(resource_subscriptions=[uri]))
        listen_inbox: asyncio.Queue[float] = asyncio.Queue()

        async def pump() -> None:
            async for _event in listen:
                listen_inbox.put_nowait(time.perf_counter())

        pumping = asyncio.create_task(pump())
        # Warm up (the legacy GET stream opens asynchronously after the handshake).
        for _ in range(50):
            await body(poster, "add_message", session_id=sid, content="warm-up")
            await asyncio.wait_for(listen_inbox.get(), 10)
            try:
                await asyncio.wait_for(legacy_inbox.get(), 0.2)
                break
            except TimeoutError:
                continue
        for inbox in (legacy_inbox, listen_inbox):
            while not inbox.empty():
                inbox.get_nowait()

        wait_lat: list[float] = []
        legacy_lat: list[float] = []
        listen_lat: list[float] = []
        last = max(committed, default=0)
        for i in range(posts):
            pending = asyncio.create_task(
                timed(
                    body(
                        waiter,
                        "wait_for_messages",
                        session_id=sid,
                        after_id=last,
                        timeout_seconds=30,
                    )
                )
            )
            for _ in range(2000):
                if app.coordination.waits.waiters:
                    break
                await asyncio.sleep(0.001)
            posted = await body(poster, "add_message", session_id=sid, content=f"post {i}")
            mid = posted["message_id"]
            woke, woke_at = await asyncio.wait_for(pending, 30)
            got_legacy = await asyncio.wait_for(legacy_inbox.get(), 10)
            listen_at = await asyncio.wait_for(listen_inbox.get(), 10)
            assert woke["messages"][0]["id"] == mid
            wait_lat.append(woke_at - committed[mid])
            legacy_lat.append(got_legacy - committed[mid])
            listen_lat.append(listen_at - committed[mid])
            last = mid

        pumping.cancel()
        acquire: list[float] = []
        release: list[float] = []
        for _ in range(locks):
            started = time.perf_counter()
            assert (await body(poster, "coordinate_session_work", session_id=sid))["success"]
            acquire.append(time.perf_counter() - started)
            started = time.perf_counter()
            unlocked = await body(
                poster, "coordinate_session_work", session_id=sid, action="unlock"
            )
            assert unlocked["success"]
            release.append(time.perf_counter() - started)

    return {
        "posts": posts,
        "commit_to_wait_return": percentiles(wait_lat),
        "commit_to_notification_2025_11_25": percentiles(legacy_lat),
        "commit_to_notification_2026_07_28": percentiles(listen_lat),
        "lock_acquire_http": percentiles(acquire),
        "lock_release_http": percentiles(release),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--locks", type=int, default=200)
    args = parser.parse_args()
    results = asyncio.run(run(args.posts, args.locks))
    print(f"{'measure':40} {'n':>5} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    for name, figures in results.items():
        if isinstance(figures, dict):
            print(
                f"{name:40} {figures['n']:>5} {figures['p50_ms']:>9.2f} "
                f"{figures['p95_ms']:>9.2f} {figures['max_ms']:>9.2f}"
            )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
