"""The telemetry benchmark runs end to end with tiny counts (figures are not checked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import telemetry

pytest.importorskip("opentelemetry.sdk", reason="the tracing scenario needs the OpenTelemetry SDK")


async def test_telemetry_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "telemetry.json"
    report = await telemetry.run(calls=3, rounds=1, out=out)
    assert {"default", "json_call_logs", "tracing", "recorder_only"} <= set(report)
    assert all(report[name]["ping_us"] > 0 for name in ("default", "json_call_logs", "tracing"))
    assert json.loads(out.read_text())["calls"] == 3
    assert "recorder alone" in telemetry.table(report)
