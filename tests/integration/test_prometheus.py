"""/metrics by the Prometheus conventions, parsed with prometheus-client's own parser: a
scripted workload's counts must equal the histogram's, in base units, with bounded labels."""

from __future__ import annotations

import math
import re
from pathlib import Path

import httpx
from fastmcp import Client
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from shared_context.bootstrap import build_http_app, open_services
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from shared_context.telemetry.calls import UNKNOWN_TOOL
from shared_context.telemetry.readings import DURATION_BUCKETS, Distribution
from tests.conftest import make_settings
from tests.helpers import ADMIN_KEY, call, fail, login, unknown_tool

NON_BASE_UNITS = re.compile(
    r"_(ms|msec|milliseconds|microseconds|us|ns|minutes|hours|days|kb|kib|mb|mib|gb|percent)(_|$)"
)
HISTOGRAM = "scs_tool_call_duration_seconds"


async def scrape(services: Services) -> dict[str, Metric]:
    app = build_http_app(services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def by_tool(family: Metric, suffix: str) -> dict[str, float]:
    return {s.labels["tool"]: s.value for s in family.samples if s.name == family.name + suffix}


def quantile(family: Metric, tool: str, q: float) -> float:
    """PromQL's histogram_quantile over the scraped buckets of one tool (an independent
    re-implementation, to check the JSON report against the exposition)."""
    buckets = sorted(
        (float(s.labels["le"]), s.value)
        for s in family.samples
        if s.name.endswith("_bucket") and s.labels["tool"] == tool
    )
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - below) / (cumulative - below)
        lower, below = upper, cumulative
    return lower


async def workload(client: Client) -> dict[str, int]:
    """Known calls: returns how many of each tool were made."""
    admin = await login(client, "ops", "ops", admin=True)
    agent = await login(client, "worker", "claude")
    sid = (await call(client, "create_session", purpose="p", auth_token=agent))["session_id"]
    for i in range(5):
        await call(client, "add_message", session_id=sid, content=f"m{i}", auth_token=agent)
    await fail(client, "add_message", session_id=sid, content="", auth_token=agent)
    for _ in range(3):
        await call(client, "get_messages", session_id=sid, auth_token=agent)
    assert (await fail(client, "get_messages", session_id=sid, auth_token="bad"))["code"]
    await unknown_tool(client, "no_such_tool_at_all")
    await call(client, "get_performance_metrics", auth_token=admin)
    return {
        "authenticate_agent": 2,
        "create_session": 1,
        "add_message": 6,
        "get_messages": 4,
        UNKNOWN_TOOL: 1,
        "get_performance_metrics": 1,
    }


async def test_metrics_follow_the_prometheus_conventions(
    services: Services, client: Client
) -> None:
    made = await workload(client)
    families = await scrape(services)

    hist = families[HISTOGRAM]
    assert hist.type == "histogram"
    counts = by_tool(hist, "_count")
    assert counts == {tool: float(n) for tool, n in made.items()}
    for tool in made:
        bounds = {
            s.labels["le"]
            for s in hist.samples
            if s.name == HISTOGRAM + "_bucket" and s.labels["tool"] == tool
        }
        assert bounds == {str(float(b)) for b in DURATION_BUCKETS} | {"+Inf"}
    assert "0.001" in bounds and "10.0" in bounds  # 1 ms .. 10 s
    assert by_tool(families["scs_tool_calls"], "_total") == counts

    errors = {
        (s.labels["tool"], s.labels["code"]): s.value
        for s in families["scs_tool_errors"].samples
        if s.name.endswith("_total")
    }
    assert errors == {
        ("add_message", "INVALID_INPUT"): 1.0,
        ("get_messages", "TOKEN_INVALID"): 1.0,
        (UNKNOWN_TOOL, "INVALID_INPUT"): 1.0,
    }
    auth = {
        s.labels["code"]: s.value
        for s in families["scs_auth_failures"].samples
        if s.name.endswith("_total")
    }
    assert auth == {"TOKEN_INVALID": 1.0}

    for name, family in families.items():
        assert not NON_BASE_UNITS.search(name), name
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), name
        if family.type == "histogram" and name != "scs_db_write_batch_size":
            assert name.endswith("_seconds"), name
    for name in (
        "scs_db_reads",
        "scs_db_writes",
        "scs_db_write_batches",
        "process_cpu_seconds",
    ):
        assert families[name].type == "counter", name
    for name in (
        "scs_active_agents",
        "scs_locks_held",
        "scs_waiters",
        "scs_subscriptions",
        "scs_db_writer_queue_depth",
        "scs_database_size_bytes",
    ):
        assert families[name].type == "gauge", name
    for name in (
        "scs_db_write_duration_seconds",
        "scs_db_read_duration_seconds",
        "scs_db_write_batch_duration_seconds",
    ):
        assert families[name].type == "histogram", name
    writes = families["scs_db_writes"].samples[0].value
    assert writes >= 6  # create_session + five messages (+ audit rows in the same batches)
    assert families["scs_active_agents"].samples[0].value == 2
    if services.store.dialect == "sqlite":  # PostgreSQL deployments read through, uncached
        for name in ("scs_cache_hits", "scs_cache_misses", "scs_cache_evictions"):
            assert families[name].type == "counter", name
        levels = {s.labels["level"] for s in families["scs_cache_misses"].samples}
        assert levels <= {"sessions", "window", "shapes", "pages"}


async def test_json_report_is_read_from_the_same_histogram(
    services: Services, client: Client
) -> None:
    made = await workload(client)
    admin = await login(client, "ops2", "ops", admin=True)
    report = await call(client, "get_performance_metrics", auth_token=admin)
    families = await scrape(services)
    hist = families[HISTOGRAM]
    counts = by_tool(hist, "_count")
    for tool, n in made.items():
        if tool in ("authenticate_agent", "get_performance_metrics"):
            continue  # called again after the workload
        figures = report["tools"][tool]
        assert figures["calls"] == n == counts[tool]
        for q in (50, 95, 99):
            expected = round(1000 * quantile(hist, tool, q / 100), 3)
            assert math.isclose(figures[f"p{q}_ms"], expected, abs_tol=0.002), (tool, q)
        assert figures["p99_ms"] >= figures["p95_ms"] >= figures["p50_ms"] > 0
    assert report["tools"]["add_message"]["errors"] == 1


async def test_each_server_has_its_own_registry(tmp_path: Path) -> None:
    async with (
        open_services(make_settings(tmp_path / "a")) as first,
        open_services(make_settings(tmp_path / "b")) as second,
    ):
        async with Client(build_mcp(first)) as client:
            await login(client, "solo", "claude")
        assert by_tool((await scrape(first))[HISTOGRAM], "_count") == {"authenticate_agent": 1}
        assert by_tool((await scrape(second))[HISTOGRAM], "_count") == {}


def test_quantiles_follow_promql() -> None:
    # 10 observations: 4 in (0, 1], 4 in (1, 2], 2 above 2.
    dist = Distribution(((1.0, 4.0), (2.0, 8.0), (math.inf, 10.0)), 10.0, 12.0)
    assert dist.quantile(0.2) == 0.5  # rank 2 of 4 in the first bucket
    assert dist.quantile(0.6) == 1.5
    assert dist.quantile(0.99) == 2.0  # in +Inf: the highest finite bound
    assert dist.mean() == 1.2
    assert Distribution((), 0.0, 0.0).quantile(0.5) == 0.0


async def test_unknown_tool_names_do_not_use_up_the_tool_labels(
    services: Services, client: Client
) -> None:
    from shared_context.telemetry.calls import MAX_TOOL_NAMES

    for i in range(MAX_TOOL_NAMES + 5):
        await unknown_tool(client, f"made_up_tool_{i}")
    await login(client, "after", "claude")
    counts = by_tool((await scrape(services))[HISTOGRAM], "_count")
    assert counts == {UNKNOWN_TOOL: MAX_TOOL_NAMES + 5.0, "authenticate_agent": 1.0}
