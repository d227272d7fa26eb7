"""Header values with surrounding whitespace reach the server trimmed (RFC 9110 §5.5), with
the HTTP parser the server really runs (httptools): raw bytes on a socket, so no client
library trims them first."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.helpers import AGENT_KEY
from tests.server_process import ServerProcess


async def post(
    port: int, headers: list[tuple[str, str]], body: dict[str, Any]
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """One HTTP/1.1 POST /mcp written byte for byte; returns status, JSON-RPC body, headers."""
    payload = json.dumps(body).encode()
    lines = [
        "POST /mcp HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: application/json, text/event-stream",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *(f"{name}:{value}" for name, value in headers),
    ]
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    response_headers: dict[str, str] = {}
    for raw_line in head.split(b"\r\n")[1:]:
        name, _, value = raw_line.decode().partition(":")
        response_headers[name.strip().lower()] = value.strip()
    text = rest.decode(errors="replace")
    if response_headers.get("transfer-encoding") == "chunked":  # de-chunk (bounded)
        out: list[bytes] = []
        data = rest
        for _ in range(1000):
            size_line, _, data = data.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            out.append(data[:size])
            data = data[size + 2 :]
        text = b"".join(out).decode(errors="replace")
    for line in text.splitlines():  # an SSE stream: its first data line
        if line.startswith("data:") and line[5:].strip():
            return status, json.loads(line[5:]), response_headers
    return status, json.loads(text) if text.strip() else {}, response_headers


async def test_padded_identity_headers_are_the_trimmed_identity(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data").start() as server:
        padded = [
            ("X-API-Key", f"   {AGENT_KEY}  "),
            ("X-Agent-Id", "\t alice  "),
            ("X-Agent-Type", "  claude "),
        ]
        status, body, answer = await post(
            server.port,
            padded,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "0"},
                },
            },
        )
        assert status == 200, body
        session = answer["mcp-session-id"]
        common = [
            *padded,
            ("Mcp-Session-Id", f"  {session} "),
            ("MCP-Protocol-Version", " 2025-11-25 "),
        ]
        status, _, _ = await post(
            server.port, common, {"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        assert status in (200, 202)
        status, body, _ = await post(
            server.port,
            common,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "create_session", "arguments": {"purpose": "padded"}},
            },
        )
        assert status == 200, body
        result = body["result"]
        assert not result.get("isError"), result
        assert result["structuredContent"]["created_by"] == "alice"
