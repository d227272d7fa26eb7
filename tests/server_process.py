"""A real ``scs serve`` in a subprocess on a free 127.0.0.1 port, for HTTP/e2e tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
from mcp.client.client import Client as SdkClient
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.helpers import ADMIN_KEY, AGENT_KEY, JWT_SECRET

START_TIMEOUT = 30.0
# A raw JSON-RPC initialize request (handshake-era protocol), for tests below the SDK.
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(data_dir: Path, *, keys: bool = True, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCS_")}
    env["SCS_DATA_DIR"] = str(data_dir)
    if keys:
        env["SCS_API_KEY"] = AGENT_KEY
        env["SCS_ADMIN_API_KEY"] = ADMIN_KEY
        env["SCS_JWT_SECRET"] = JWT_SECRET
    env["SCS_LOG_LEVEL"] = "WARNING"
    env.update(extra)
    return env


def scs_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "shared_context.cli.main", *args]


class ServerProcess:
    """``scs serve`` over HTTP; ``start()`` waits for /health with a bounded loop."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port or free_port()
        self.env = env if env is not None else server_env(data_dir)
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def start(self, *extra_args: str, timeout: float = START_TIMEOUT) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            scs_command("serve", "--host", self.host, "--port", str(self.port), *extra_args),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not become healthy in {timeout}s: {self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        proc = self.proc
        if proc is None:
            return self.returncode or 0
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        self.proc = None
        self.returncode = proc.returncode
        return proc.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_scs(
    *args: str, env: dict[str, str], timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        scs_command(*args), env=env, capture_output=True, text=True, timeout=timeout
    )


@asynccontextmanager
async def sdk_client(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[SdkClient]:
    """The official MCP SDK client over Streamable HTTP, optionally with extra headers."""
    http: httpx2.AsyncClient = create_mcp_http_client(headers=headers)
    async with http, SdkClient(streamable_http_client(url, http_client=http)) as client:
        yield client


async def sdk_call(client: SdkClient, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, f"{tool} failed: {result.structured_content or result.content}"
    body = result.structured_content
    assert body is not None and body["success"] is True
    return dict(body)


async def sdk_fail(client: SdkClient, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    body = result.structured_content
    assert body is not None and body["success"] is False
    return dict(body)
