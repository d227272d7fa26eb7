"""Raw Streamable HTTP JSON-RPC, as a hostile client speaks it (no SDK client niceties)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx2

LEGACY = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
_ids = itertools.count(1)


def parse(response: httpx2.Response) -> dict[str, Any] | None:
    """The JSON-RPC message of a response (plain JSON or the first SSE data line)."""
    if not response.content:
        return None
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                found: dict[str, Any] = json.loads(line[5:])
                return found
        return None
    body: dict[str, Any] = response.json()
    return body


def headers(token: str | None = None, session: str | None = None) -> dict[str, str]:
    out = {"Accept": ACCEPT, "Content-Type": "application/json", "MCP-Protocol-Version": LEGACY}
    if token:
        out["Authorization"] = f"Bearer {token}"
    if session:
        out["Mcp-Session-Id"] = session
    return out


async def initialize(
    http: httpx2.AsyncClient, url: str, token: str | None = None
) -> tuple[httpx2.Response, str | None]:
    """A 2025-11-25 handshake; returns the response and the Mcp-Session-Id (if any)."""
    body = {
        "jsonrpc": "2.0",
        "id": next(_ids),
        "method": "initialize",
        "params": {
            "protocolVersion": LEGACY,
            "capabilities": {},
            "clientInfo": {"name": "hostile", "version": "0"},
        },
    }
    h = headers(token)
    h.pop("MCP-Protocol-Version")
    response = await http.post(url, json=body, headers=h)
    session = response.headers.get("mcp-session-id")
    if session and response.status_code == 200:
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        await http.post(url, json=note, headers=headers(token, session))
    return response, session


async def rpc(
    http: httpx2.AsyncClient,
    url: str,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    session: str | None = None,
) -> tuple[int, dict[str, Any] | None]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": next(_ids), "method": method}
    if params is not None:
        body["params"] = params
    response = await http.post(url, json=body, headers=headers(token, session))
    return response.status_code, parse(response)
