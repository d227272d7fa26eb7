"""Test support for the memory and audit tests: a real HTTP server on 127.0.0.1 (uvicorn in
the test's own event loop, on a pre-bound free port) and a raw JSON-RPC caller for inputs an
MCP client library would refuse to send (NaN, 1,000-deep nesting)."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

from shared_context.bootstrap import build_http_app
from shared_context.domain.models import Principal
from shared_context.domain.permissions import Permission
from shared_context.services.container import Services
from shared_context.storage.postgres.store import PostgresStore
from shared_context.storage.sqlite.store import SqliteStore

ACCEPT = "application/json, text/event-stream"


@asynccontextmanager
async def serve_http(app: Services) -> AsyncIterator[str]:
    """Serve ``app`` over Streamable HTTP; yields the /mcp URL."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only then;
    # without it every keep-alive response stalls ~40 ms on delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        build_http_app(app), log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        async with asyncio.timeout(20):
            await task
        sock.close()


def _payload(response: httpx.Response) -> dict[str, Any]:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:"):
                body: dict[str, Any] = json.loads(line[5:])
                if "id" in body:
                    return body
        raise AssertionError(f"no JSON-RPC response in stream: {response.text[:500]}")
    data: dict[str, Any] = response.json()
    return data


class RawMcp:
    """A minimal JSON-RPC session over Streamable HTTP that sends bodies byte for byte."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
        self.headers: dict[str, str] = {"accept": ACCEPT, "content-type": "application/json"}
        self._next = 0

    async def start(self) -> None:
        response = await self.http.post(
            self.url,
            headers=self.headers,
            json={
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw-test", "version": "1"},
                },
            },
        )
        response.raise_for_status()
        init = _payload(response)
        session = response.headers.get("mcp-session-id")
        if session:
            self.headers["mcp-session-id"] = session
        version = init["result"]["protocolVersion"]
        self.headers["mcp-protocol-version"] = version
        await self.http.post(
            self.url,
            headers=self.headers,
            json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        )

    async def send(self, method: str, params_json: str) -> dict[str, Any]:
        """Send a request whose params are given as raw JSON text."""
        self._next += 1
        body = f'{{"jsonrpc": "2.0", "id": {self._next}, "method": "{method}", "params": '
        body += params_json + "}"
        response = await self.http.post(self.url, headers=self.headers, content=body.encode())
        assert response.status_code < 500, response.text[:500]
        return _payload(response)

    async def call_tool(self, name: str, arguments_json: str) -> dict[str, Any]:
        return await self.send("tools/call", f'{{"name": "{name}", "arguments": {arguments_json}}}')


def principal(
    agent_id: str, agent_type: str = "claude", *, admin: bool = False, read_only: bool = False
) -> Principal:
    """A verified caller for service-level tests (what AuthService.resolve would return)."""
    perms = {Permission.READ} if read_only else {Permission.READ, Permission.WRITE}
    if admin:
        perms.add(Permission.ADMIN)
    return Principal(agent_id=agent_id, agent_type=agent_type, permissions=frozenset(perms))


async def memory_rows(app: Services) -> list[tuple[Any, ...]]:
    """Every row of the memory table, expired or not (bypassing the live filter)."""
    return await all_rows(
        app,
        "SELECT agent_id, scope, key, value, version, expires_at FROM agent_memory ORDER BY id",
    )


async def audit_rows(app: Services) -> list[tuple[Any, ...]]:
    return await all_rows(
        app, "SELECT agent_id, event_type, session_id, outcome, details FROM audit_log ORDER BY id"
    )


async def all_rows(app: Services, sql: str) -> list[tuple[Any, ...]]:
    """Every row of a parameterless query, on either backend."""
    store = app.store
    if isinstance(store, PostgresStore):
        async with store.connection() as conn:
            return [tuple(r) for r in await conn.fetch(sql)]
    assert isinstance(store, SqliteStore)

    def fn(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return list(conn.execute(sql).fetchall())

    rows: list[tuple[Any, ...]] = await store.read(fn)
    return rows


def resource_json(contents: Sequence[object]) -> dict[str, Any]:
    """The JSON body of a single-content resource read."""
    assert len(contents) == 1
    text = getattr(contents[0], "text", None)
    assert isinstance(text, str), contents
    body: dict[str, Any] = json.loads(text)
    return body
