"""SPEC §19: failed authentications are rate-limited per key and per agent id and cannot grow
the database without bound (issue 12: 2,000 failures added 236 KiB of audit rows)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from shared_context.bootstrap import open_services
from shared_context.domain.auth_failures import AuthFailureGuard
from shared_context.domain.errors import ErrorCode, SharedContextError
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY

ATTEMPTS = 2000


async def audit_rows(app: Services) -> tuple[int, int]:
    def fn(conn: sqlite3.Connection) -> tuple[int, int]:
        rows = conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
        size = conn.execute("SELECT COALESCE(SUM(LENGTH(details)), 0) FROM audit_log").fetchone()[0]
        return int(rows), int(size)

    result: tuple[int, int] = await app.store.read(fn)  # type: ignore[attr-defined]
    return result


async def attempt(app: Services, agent: str, key: str) -> ErrorCode:
    try:
        await app.auth.authenticate(agent, "claude", key, ["read"])
    except SharedContextError as exc:
        return exc.code
    raise AssertionError("a wrong key authenticated")


async def test_failures_per_agent_id_are_rate_limited(services: Services) -> None:
    codes = [await attempt(services, "alice", f"scs_wrong{i:04d}") for i in range(30)]
    limit = services.settings.auth_max_failures
    assert codes[:limit] == [ErrorCode.INVALID_API_KEY] * limit
    assert set(codes[limit:]) == {ErrorCode.RATE_LIMITED}
    # The right key as another agent still works; alice is the one being hammered.
    ok = await services.auth.authenticate("bob", "claude", AGENT_KEY, ["read"])
    assert ok.success is True


async def test_failures_per_key_prefix_are_rate_limited(services: Services) -> None:
    codes = [await attempt(services, f"agent{i}", "scs_same-wrong-key-xyz") for i in range(30)]
    limit = services.settings.auth_max_failures
    assert set(codes[limit:]) == {ErrorCode.RATE_LIMITED}
    ok = await services.auth.authenticate("carol", "claude", AGENT_KEY, ["read"])
    assert ok.success is True


async def test_two_thousand_failures_add_bounded_audit_rows(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", auth_failure_audit_budget=20)
    async with open_services(settings) as app:
        rows_before, _ = await audit_rows(app)
        for i in range(ATTEMPTS):  # a new agent id and a new key every time: no bucket fills
            await attempt(app, f"a{i}", f"k{i:05d}-guess")
        rows, size = await audit_rows(app)
        assert rows - rows_before <= 20  # the budget, not 2,000
        assert await app.auth.flush_failures() == ATTEMPTS - 20
        rows_after, _ = await audit_rows(app)
        assert rows_after == rows + 1  # one aggregate row carries the rest
        assert size < 20 * 1024
        assert app.auth.guard.stats()["failures"] == ATTEMPTS
        assert await app.auth.flush_failures() == 0  # drained


def test_guard_buckets_are_bounded_and_age_out() -> None:
    guard = AuthFailureGuard(max_failures=2, window_seconds=10, audit_budget=5, max_buckets=50)
    for i in range(1000):
        guard.failed(float(i) / 100, f"agent:{i}")
    assert guard.stats()["buckets"] == 50
    guard.failed(100.0, "agent:x")
    guard.failed(100.0, "agent:x")
    with pytest.raises(SharedContextError) as refused:
        guard.check(101.0, "agent:x")
    assert refused.value.code is ErrorCode.RATE_LIMITED
    assert refused.value.details["retry_after_seconds"] >= 1
    guard.check(111.0, "agent:x")  # aged out
