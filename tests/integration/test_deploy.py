"""deploy/: the Grafana dashboard and the Prometheus alert rules are valid, and every
expression names only metrics the server really exports (read from a live /metrics)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from fastmcp import Client
from prometheus_client.parser import text_string_to_metric_families

from shared_context.bootstrap import build_http_app, open_services
from shared_context.mcp.server import build_mcp
from tests.conftest import make_settings
from tests.helpers import ADMIN_KEY, call, login

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "shared-context-server.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts_test.yml"
# Series Prometheus makes itself for every scrape target.
SCRAPE_SERIES = {"up"}
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
    "info": ("_info",),
}


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (not functions, labels, keywords or durations)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if expr[match.end() :].lstrip().startswith("(") or match.group(0) in PROMQL_WORDS:
            continue
        names.add(match.group(0))
    return names


def test_metric_names_are_found_in_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, tool) (rate(a_bucket{tool=~"x.*"}'
        "[$__rate_interval]))) / on (instance) b_total > 1e3 and c offset 5m"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """Every sample name the server's /metrics can carry, read from a live scrape."""
    import asyncio
    import tempfile

    async def scrape() -> str:
        with tempfile.TemporaryDirectory() as tmp:
            async with open_services(make_settings(Path(tmp) / "data")) as services:
                async with Client(build_mcp(services)) as client:
                    token = await login(client, "deploy", "claude")
                    await call(client, "create_session", purpose="d", auth_token=token)
                app = build_http_app(services)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://127.0.0.1"
                ) as http:
                    response = await http.get(
                        "/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
                    )
                    assert response.status_code == 200
                    return response.text

    text = asyncio.run(scrape())
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def dashboard_expressions() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    exprs: list[str] = []
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        exprs.extend(t["expr"] for t in panel["targets"])
    return exprs


def test_dashboard_is_valid_and_covers_the_operator_questions(exported: set[str]) -> None:
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] == "shared-context-server" and board["schemaVersion"] >= 36
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    exprs = dashboard_expressions()
    joined = "\n".join(exprs)
    for needed in (
        "rate(scs_tool_calls_total",  # request rate
        "scs_tool_errors_total",  # error rate
        "histogram_quantile(0.5, sum by (le) (rate(scs_tool_call_duration_seconds_bucket",
        "histogram_quantile(0.95, sum by (le) (rate(scs_tool_call_duration_seconds_bucket",
        "histogram_quantile(0.99, sum by (le) (rate(scs_tool_call_duration_seconds_bucket",
        "scs_db_writer_queue_depth",
        "scs_cache_hits_total",
        "scs_active_agents",
    ):
        assert needed in joined, needed
    for expr in exprs:
        unknown = metric_names(expr) - exported
        assert not unknown, (expr, unknown)
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == "instance"]
    metric = re.fullmatch(r"label_values\((\w+), instance\)", variable["definition"])
    assert metric is not None and metric.group(1) in exported


def test_alert_rules_are_valid_and_name_exported_metrics(exported: set[str]) -> None:
    rules = yaml.safe_load(ALERTS.read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    names = [a["alert"] for a in alerts]
    assert len(names) == len(set(names))
    for alert in alerts:
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
        unknown = metric_names(alert["expr"]) - exported - SCRAPE_SERIES
        assert not unknown, (alert["alert"], unknown)
    # Every migration-readiness criterion of get_performance_metrics has an alert.
    readiness = {a["alert"] for a in rules["groups"][1]["rules"]}
    assert readiness == {
        "SCSShouldMigrateToPostgres",
        "SCSWriteLatencyHigh",
        "SCSManyConcurrentWriters",
        "SCSDatabaseLarge",
        "SCSManyWritesPerDay",
        "SCSManyActiveAgents",
        "SCSSearchSlow",
    }
    assert {"SCSServerErrors", "SCSErrorBurst", "SCSAuthFailureBurst"} <= set(names)


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus; .ci/run extracts it)")
    for args in (("check", "rules", str(ALERTS)), ("test", "rules", str(ALERT_TESTS))):
        done = subprocess.run(
            [promtool, *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
