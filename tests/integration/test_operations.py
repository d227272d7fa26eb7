"""Metrics, API docs, health and /metrics through real clients."""

from __future__ import annotations

import json

import httpx
import pytest
from fastmcp import Client
from prometheus_client.parser import text_string_to_metric_families

from shared_context.bootstrap import build_http_app
from shared_context.services.container import Services
from tests.helpers import ADMIN_KEY, AGENT_KEY, call, fail, login


async def test_metrics_count_exactly_the_calls_made(client: Client) -> None:
    admin = await login(client, "ops", "ops", admin=True)
    agent = await login(client, "worker", "claude")
    sid = (await call(client, "create_session", purpose="m", auth_token=agent))["session_id"]
    for i in range(3):
        await call(client, "add_message", session_id=sid, content=f"m{i}", auth_token=agent)
    await fail(client, "add_message", session_id=sid, content="", auth_token=agent)
    for _ in range(2):
        await call(client, "get_messages", session_id=sid, auth_token=agent)

    body = await call(client, "get_performance_metrics", auth_token=admin)
    tools = body["tools"]
    assert tools["add_message"]["calls"] == 4
    assert tools["add_message"]["errors"] == 1
    assert tools["get_messages"]["calls"] == 2
    assert tools["create_session"]["calls"] == 1
    assert tools["authenticate_agent"]["calls"] == 2
    assert tools["get_messages"]["p95_ms"] >= tools["get_messages"]["p50_ms"] > 0
    assert body["totals"]["messages"] == 3
    assert body["totals"]["sessions"] == 1
    assert body["totals"]["writes_last_24h"] == 4  # create_session + three add_message
    assert body["database"]["writes"] >= 4
    names = [c["name"] for c in body["migration_readiness"]["criteria"]]
    assert names == [
        "p95_write_latency_ms",
        "concurrent_writers",
        "database_bytes",
        "writes_last_24h",
        "active_agents",
        "search_p95_ms",
    ]
    assert body["migration_readiness"]["should_migrate"] is False


async def test_metrics_need_admin(client: Client) -> None:
    agent = await login(client, "worker", "claude")
    assert (await fail(client, "get_performance_metrics", auth_token=agent))[
        "code"
    ] == "PERMISSION_DENIED"


async def test_generated_docs_cover_every_registered_tool(client: Client) -> None:
    agent = await login(client, "reader", "claude")
    registered = {t.name for t in await client.list_tools()}
    as_json = await call(client, "generate_api_documentation", format="json", auth_token=agent)
    assert {t["name"] for t in as_json["documentation"]["tools"]} == registered
    assert "INVALID_INPUT" in as_json["documentation"]["error_codes"]
    guides = as_json["documentation"]["integration_guides"]
    assert {"autogen", "crewai", "langgraph"} <= set(guides)
    md = await call(client, "generate_api_documentation", format="markdown", auth_token=agent)
    for name in registered:
        assert f"## `{name}`" in md["documentation"]
    spec = await call(client, "generate_api_documentation", format="openapi", auth_token=agent)
    assert spec["documentation"]["openapi"] == "3.1.0"
    assert set(spec["documentation"]["paths"]) == {f"/tools/{n}" for n in registered}
    json.dumps(spec)  # serialisable
    bad = await fail(client, "generate_api_documentation", format="pdf", auth_token=agent)
    assert bad["code"] == "INVALID_INPUT"


async def test_health_and_prometheus_endpoint(services: Services) -> None:
    app = build_http_app(services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        health = await http.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"X-API-Key": AGENT_KEY})).status_code == 403
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        assert response.status_code == 200
        families = {f.name for f in text_string_to_metric_families(response.text)}
        assert "scs_database_rows" in families
        assert "scs_migration_should_migrate" in families


async def test_health_is_503_when_the_database_does_not_answer(services: Services) -> None:
    app = build_http_app(services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        assert (await http.get("/health")).status_code == 200
        await services.store.close()
        response = await http.get("/health")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"


@pytest.mark.sqlite_only
async def test_health_is_503_while_another_process_holds_the_write_lock(
    services: Services,
) -> None:
    import sqlite3

    from shared_context.storage.sqlite.store import SqliteStore

    assert isinstance(services.store, SqliteStore)
    blocker = sqlite3.connect(services.store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        await services.store.ping(timeout=0.5)
    except Exception as exc:
        assert "unreachable" in str(exc)
    else:
        raise AssertionError("ping answered although the database was locked")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


async def test_unknown_tool_names_cannot_grow_the_metrics_without_bound(
    services: Services,
) -> None:
    from shared_context.services.metrics import MAX_TOOL_NAMES, OTHER_TOOLS

    for i in range(MAX_TOOL_NAMES + 50):
        services.metrics.record_tool(f"made-up-{i}", 0.001, False)
    stats = services.metrics.tool_stats()
    assert len(stats) == MAX_TOOL_NAMES + 1
    assert stats[OTHER_TOOLS]["calls"] == 50
