"""The HTTP app in-process (ASGI): health, the Host/Origin guard and the body limit."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import httpx

from shared_context.bootstrap import build_http_app
from shared_context.services.container import Services
from shared_context.storage.postgres.store import PostgresStore


async def test_health_reports_an_unreachable_database(services: Services) -> None:
    app = build_http_app(services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        ok = await http.get("/health")
        assert ok.status_code == 200 and ok.json()["database"] == services.store.dialect
        if isinstance(services.store, PostgresStore):
            async with services.store.connection() as pg:
                await pg.execute("DROP TABLE schema_version")
        else:
            conn = sqlite3.connect(services.store.path)  # type: ignore[attr-defined]
            with conn:
                conn.execute("DROP TABLE schema_version")
            conn.close()
        down = await http.get("/health")
        assert down.status_code == 503
        assert down.json()["status"] == "unhealthy"


async def test_guard_and_limit_in_process(services: Services) -> None:
    app = build_http_app(services)
    transport = httpx.ASGITransport(app=app)
    limit = services.settings.max_body_bytes
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        evil = await http.get("/health", headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403
        assert (await http.get("/health", headers={"Host": "evil.example"})).status_code == 421
        declared = await http.post("/mcp", content=b"x" * (limit + 1))
        assert declared.status_code == 413
        garbage = await http.post("/mcp", content=b"{}", headers={"Content-Length": "not-a-number"})
        assert garbage.status_code in {400, 413}

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"x" * (limit // 2)

        streamed = await http.post("/mcp", content=chunks())
        assert streamed.status_code == 413
