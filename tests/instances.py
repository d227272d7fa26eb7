"""Real ``scs serve`` processes on free ports, for multi-instance tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.helpers import ADMIN_KEY, AGENT_KEY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_instance(
    data_dir: Path, env_overrides: dict[str, str], *, ready_timeout: float = 30.0
) -> Instance:
    """Start ``scs serve`` and return once /health answers (bounded by ``ready_timeout``)."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCS_")}
    env.update(
        {
            "SCS_API_KEY": AGENT_KEY,
            "SCS_ADMIN_API_KEY": ADMIN_KEY,
            "SCS_DATA_DIR": str(data_dir),
            "SCS_LOG_LEVEL": "WARNING",
            **env_overrides,
        }
    )
    log = data_dir / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared_context.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    instance = Instance(process, port, log)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scs serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return instance
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    instance.kill()
    raise RuntimeError(f"scs serve not ready in {ready_timeout}s:\n{log.read_text()[-3000:]}")
