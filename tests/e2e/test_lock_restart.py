"""A lock held by an agent whose server is SIGKILLed survives the restart, then expires."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared_context.domain.clock import parse_iso
from tests.e2e.live import sdk_call, sdk_client
from tests.helpers import ADMIN_KEY, AGENT_KEY, JWT_SECRET

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCS_")}
    env.update(
        SCS_API_KEY=AGENT_KEY,
        SCS_ADMIN_API_KEY=ADMIN_KEY,
        SCS_JWT_SECRET=JWT_SECRET,
        SCS_LOG_LEVEL="WARNING",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared_context.cli.main",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not start")


async def login(url: str, agent_id: str) -> str:
    async with sdk_client(url, None) as client:
        body = await sdk_call(
            client,
            "authenticate_agent",
            agent_id=agent_id,
            agent_type="claude",
            api_key=AGENT_KEY,
        )
    token: str = body["token"]
    return token


async def test_lock_survives_sigkill_and_expires_after_ttl(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    started = time.monotonic()
    proc = await start_server(data_dir, port)
    # The lease must outlive a restart on a loaded machine: size it from this start-up time.
    ttl = min(120, max(5, int(3 * (time.monotonic() - started)) + 2))
    try:
        alice, bob = await login(url, "alice"), await login(url, "bob")
        async with sdk_client(url, alice) as client:
            sid = (await sdk_call(client, "create_session", purpose="restart"))["session_id"]
            lock = await sdk_call(
                client, "coordinate_session_work", session_id=sid, ttl_seconds=ttl
            )
        expires = parse_iso(lock["expires_at"], "expires_at")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    proc = await start_server(data_dir, port)
    try:
        async with sdk_client(url, bob) as client:
            status = await sdk_call(
                client, "coordinate_session_work", session_id=sid, action="status"
            )
            assert status["holder"] == "alice" and status["expires_at"] == lock["expires_at"]
            refused = await sdk_call(client, "add_message", session_id=sid, content="x")
            assert refused["code"] == "SESSION_LOCKED"
            # Alice's process is gone and nobody renews: bob gets the lease within ttl + 1 s.
            won = None
            for _ in range(20 * (ttl + 5)):
                attempt = await sdk_call(client, "coordinate_session_work", session_id=sid)
                if attempt["success"]:
                    won = time.time()
                    break
                assert attempt["code"] == "SESSION_LOCKED"
                await asyncio.sleep(0.1)
            assert won is not None, "the lease never expired"
            assert won <= expires + 1.0
            posted = await sdk_call(client, "add_message", session_id=sid, content="mine")
            assert posted["success"]
    finally:
        proc.terminate()
        proc.wait(15)
