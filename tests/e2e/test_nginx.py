"""deploy/nginx.conf: valid, and it really balances two instances with session affinity."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastmcp import Client

from tests.helpers import call, login
from tests.instances import Instance, free_port
from tests.pgtools import requires_pg

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx-light)"
)


@needs_nginx
def test_the_shipped_config_is_valid() -> None:
    assert NGINX is not None
    result = subprocess.run(
        [NGINX, "-t", "-c", str(CONFIG)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


def configured_for(tmp_path: Path, ports: list[int], listen: int) -> Path:
    """The shipped config with this test's ports and private temp paths."""
    text = CONFIG.read_text()
    text = text.replace("127.0.0.1:23456", f"127.0.0.1:{ports[0]}")
    text = text.replace("127.0.0.1:23457", f"127.0.0.1:{ports[1]}")
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    text = re.sub(r"/tmp/scs-nginx", str(tmp_path / "nginx"), text)
    target = tmp_path / "nginx.conf"
    target.write_text(text)
    return target


def wait_until_proxying(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("nginx did not start proxying within 20 s")


@pytest.fixture
def proxy(pair: tuple[Instance, Instance], tmp_path: Path) -> Iterator[int]:
    assert NGINX is not None
    listen = free_port()
    config = configured_for(tmp_path, [pair[0].port, pair[1].port], listen)
    with (tmp_path / "nginx.log").open("wb") as log:
        process = subprocess.Popen(
            [NGINX, "-c", str(config), "-g", "daemon off;"], stdout=log, stderr=log
        )
    try:
        wait_until_proxying(listen, process)
        yield listen
    finally:
        process.terminate()
        process.wait(timeout=10)


@needs_nginx
@requires_pg
@pytest.mark.postgres
@pytest.mark.slow
async def test_mcp_sessions_through_nginx(proxy: int, pair: tuple[Instance, Instance]) -> None:
    url = f"http://127.0.0.1:{proxy}/mcp"
    async with Client(url) as via_proxy, Client(pair[1].url) as direct:
        # Many requests on one protocol session: each must reach the instance holding it.
        alice = await login(via_proxy, "alice", "claude")
        sid = (await call(via_proxy, "create_session", purpose="lb", auth_token=alice))[
            "session_id"
        ]
        for i in range(5):
            await call(via_proxy, "add_message", session_id=sid, content=f"m{i}", auth_token=alice)
        bob = await login(direct, "bob", "claude")
        seen = await call(direct, "get_messages", session_id=sid, auth_token=bob)
        assert [m["content"] for m in seen["messages"]] == [f"m{i}" for i in range(5)]
