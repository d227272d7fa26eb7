"""scs status / docs / bench against real servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared_context.benchmark.harness import BENCH_ADMIN_KEY, ServerProcess
from shared_context.cli.main import app
from shared_context.cli.operations import render_reference

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def running_server():  # type: ignore[no-untyped-def]
    with ServerProcess() as server:
        yield server


def test_status_prints_health_and_figures(running_server: ServerProcess, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{running_server.port}"
    result = CliRunner().invoke(app, ["status", "--url", base, "--admin-key", BENCH_ADMIN_KEY])
    assert result.exit_code == 0, result.output
    assert "health: 200" in result.output
    assert "database_rows[messages]" in result.output
    without_key = CliRunner().invoke(
        app, ["status", "--url", base, "--data-dir", str(tmp_path)], env={"SCS_ADMIN_API_KEY": ""}
    )
    assert "HTTP 401" in without_key.output


def test_status_reads_the_generated_admin_key_from_the_data_directory(tmp_path: Path) -> None:
    from tests.server_process import ServerProcess as Serve
    from tests.server_process import server_env

    data = tmp_path / "data"
    with Serve(data, env=server_env(data, keys=False)) as server:
        server.start()
        assert (data / "api_keys.txt").exists()
        result = CliRunner().invoke(
            app,
            ["status", "--data-dir", str(data), "--url", server.base],
            env={"SCS_ADMIN_API_KEY": "", "SCS_DATA_DIR": ""},
        )
    assert result.exit_code == 0, result.output
    assert "database_rows[messages]" in result.output


def test_status_of_an_unreachable_server_fails() -> None:
    result = CliRunner().invoke(app, ["status", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1


async def test_committed_api_reference_matches_the_live_registry() -> None:
    committed = (ROOT / "docs" / "api-reference.md").read_text()
    assert committed == await render_reference("markdown"), (
        "docs/api-reference.md is out of date: run `uv run scs docs`"
    )


def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "suite.json"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--json-out",
            str(out),
            "--iterations",
            "2",
            "--ops-per-agent",
            "2",
            "--min-calls",
            "6",
            "--agents",
            "3",
            "--search-sizes",
            "60,120",
            "--search-calls",
            "8",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Goals" in result.output
    assert "search_context HTTP p50 <= 2x ping at 60 messages" in result.output
    report = json.loads(out.read_text())
    searched = report["search"]["sizes"]
    assert set(searched) == {"60", "120"}
    assert searched["60"]["http"]["calls"] == 8 and searched["120"]["in_process"]["calls"] == 8
    # Beside the search: ten typed messages without a search, and the client's schema check.
    http = searched["60"]["http"]
    assert http["page10_p50_ms"] > 0 and http["page10_p50_ratio_to_ping"] > 0
    assert http["client_schema_check_p50_ms"] > 0 and http["server_search_p50_ms"] >= 0
    assert http["page10_mean_bytes"] > 0 and http["search_result_mean_bytes"] > 0
    assert "a 10-message page (no search" in result.output
    assert 0 <= searched["120"]["precision_at_3"] <= 1
    assert out.exists()
