"""Durability: writers over HTTP, the server killed (SIGKILL) or stopped (SIGTERM) mid-stream,
restarted on the same data directory. Nothing acknowledged is lost; retries with the same
idempotency_key never duplicate."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import AGENT_KEY
from tests.server_process import ServerProcess, sdk_call, sdk_client, server_env

pytestmark = pytest.mark.slow

AGENTS = 8
PER_AGENT = 400  # upper bound; the server is stopped long before
STOP_AFTER_ACKS = 60
PHASE_TIMEOUT = 90.0


@dataclass
class Writer:
    agent_id: str
    token: str = ""
    attempted: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    error: str = ""


async def login_all(url: str) -> list[Writer]:
    writers = [Writer(f"w{i}") for i in range(AGENTS)]
    async with sdk_client(url) as client:
        for writer in writers:
            body = await sdk_call(
                client,
                "authenticate_agent",
                agent_id=writer.agent_id,
                agent_type="durable",
                api_key=AGENT_KEY,
            )
            writer.token = body["token"]
    return writers


async def write_until_stopped(url: str, sid: str, writer: Writer, acked: asyncio.Event) -> None:
    try:
        async with sdk_client(url) as client:
            for i in range(PER_AGENT):
                key = f"{writer.agent_id}-{i}"
                writer.attempted.append(key)
                await sdk_call(
                    client,
                    "add_message",
                    session_id=sid,
                    content=key,
                    idempotency_key=key,
                    auth_token=writer.token,
                )
                writer.acked.append(key)
                acked.set()
    except Exception as exc:  # the server went away under us: expected
        writer.error = type(exc).__name__


async def run_until_stopped(server: ServerProcess, sig: int) -> tuple[str, list[Writer]]:
    writers = await login_all(server.url)
    async with sdk_client(server.url) as client:
        sid = (
            await sdk_call(
                client, "create_session", purpose="durability", auth_token=writers[0].token
            )
        )["session_id"]
    progress = asyncio.Event()
    tasks = [
        asyncio.create_task(write_until_stopped(server.url, sid, w, progress)) for w in writers
    ]
    async with asyncio.timeout(PHASE_TIMEOUT):
        while sum(len(w.acked) for w in writers) < STOP_AFTER_ACKS:
            progress.clear()
            await progress.wait()
    await asyncio.to_thread(server.stop, sig)
    async with asyncio.timeout(PHASE_TIMEOUT):
        await asyncio.gather(*tasks)
    return sid, writers


async def verify_after_restart(server: ServerProcess, sid: str, writers: list[Writer]) -> None:
    async with sdk_client(server.url) as client:
        token = writers[0].token  # tokens survive a restart: same secret, same database
        stored = await all_contents(client, sid, token)
        acked = [key for w in writers for key in w.acked]
        assert set(acked) <= set(stored), set(acked) - set(stored)
        assert max(Counter(stored).values()) == 1
        # Retry every attempted write, acknowledged or not, with the same idempotency key.
        for writer in writers:
            for key in writer.attempted:
                body = await sdk_call(
                    client,
                    "add_message",
                    session_id=sid,
                    content=key,
                    idempotency_key=key,
                    auth_token=writer.token,
                )
                assert body["duplicate"] is (key in stored)
        final = await all_contents(client, sid, token)
    attempted = [key for w in writers for key in w.attempted]
    assert sorted(final) == sorted(attempted)


async def all_contents(client: object, sid: str, token: str) -> list[str]:
    contents: list[str] = []
    cursor = None
    for _ in range(100):
        args = {"session_id": sid, "limit": 1000, "auth_token": token}
        if cursor:
            args["cursor"] = cursor
        body = await sdk_call(client, "get_messages", **args)  # type: ignore[arg-type]
        contents.extend(m["content"] for m in body["messages"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return contents
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_acknowledged_writes_survive_a_stop(tmp_path: Path, sig: int) -> None:
    data = tmp_path / "data"
    env = server_env(data, SCS_LOG_LEVEL="INFO")
    first = ServerProcess(data, env=env).start()
    try:
        sid, writers = await run_until_stopped(first, sig)
    finally:
        code = first.stop()
    assert sum(len(w.acked) for w in writers) >= STOP_AFTER_ACKS
    if sig == signal.SIGTERM:
        assert code == 0, first.log()
        assert "all acknowledged writes are committed" in first.log()
    with ServerProcess(data, env=env).start() as second:
        await verify_after_restart(second, sid, writers)


def test_sigint_stops_gracefully(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data, env=server_env(data, SCS_LOG_LEVEL="INFO")).start()
    assert server.stop(signal.SIGINT) == 0, server.log()
    assert "all acknowledged writes are committed" in server.log()
