from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastmcp import Client, FastMCP
from pydantic import SecretStr

from shared_context.bootstrap import open_services
from shared_context.config import Settings
from shared_context.domain.clock import ManualClock
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from tests.helpers import ADMIN_KEY, AGENT_KEY, JWT_SECRET

for _name in list(os.environ):
    if _name.startswith("SCS_") and _name != "SCS_TEST_POSTGRES_URL":
        del os.environ[_name]


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "api_key": SecretStr(AGENT_KEY),
        "admin_api_key": SecretStr(ADMIN_KEY),
        "jwt_secret": SecretStr(JWT_SECRET),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def clock() -> ManualClock:
    import time

    return ManualClock(time.time())


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings) as built:
        yield built


@pytest.fixture
async def clocked_services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    async with open_services(settings, clock=clock) as built:
        yield built


@pytest.fixture
def server(services: Services) -> FastMCP:
    return build_mcp(services)


@pytest.fixture
async def client(server: FastMCP) -> AsyncIterator[Client]:
    async with Client(server) as connected:
        yield connected


LINE_FLOOR = 85.0
BRANCH_FLOOR = 80.0


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session):  # type: ignore[no-untyped-def]
    """Quality gate: line and branch coverage are checked separately (pytest-cov's
    --cov-fail-under only sees their combination)."""
    result = yield
    plugin = session.config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    cov = getattr(controller, "cov", None)
    if cov is None or session.config.getoption("collectonly"):
        return result
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(target))
        totals = json.loads(target.read_text())["totals"]
    line = 100.0 * totals["covered_lines"] / max(1, totals["num_statements"])
    branch = 100.0 * totals["covered_branches"] / max(1, totals["num_branches"])
    reporter = session.config.pluginmanager.getplugin("terminalreporter")
    message = (
        f"line coverage {line:.2f} % (floor {LINE_FLOOR}), "
        f"branch coverage {branch:.2f} % (floor {BRANCH_FLOOR})"
    )
    if line < LINE_FLOOR or branch < BRANCH_FLOOR:
        reporter.write(f"\nERROR: {message}\n", red=True, bold=True)
        session.testsfailed += 1
    else:
        reporter.write(f"\n{message}\n", green=True)
    return result
