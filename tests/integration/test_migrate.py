"""``scs migrate``: a SQLite database copied into PostgreSQL answers queries identically."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from shared_context.bootstrap import open_services
from shared_context.cli.main import app
from shared_context.domain.models import Principal, visibility_name
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS
from shared_context.services.container import Services
from shared_context.services.results import MessagePosted
from tests.conftest import make_settings
from tests.pgtools import PG_URL, drop_schema, new_schema_name, requires_pg, url_with_schema

pytestmark = [requires_pg, pytest.mark.postgres]

MESSAGES = 10_000
VIEWERS = [
    Principal("alice", "claude", AGENT_CEILING),
    Principal("bob", "claude", AGENT_CEILING),
    Principal("gina", "gemini", AGENT_CEILING),
    Principal("root", "ops", ALL_PERMISSIONS),
]


async def fill(services: Services) -> list[str]:
    """Sessions with MESSAGES messages of every visibility, a closed session, audit rows."""
    sessions = [
        (await services.sessions.create(VIEWERS[i % 3], f"topic {i}", {"i": i})).session_id
        for i in range(4)
    ]
    kinds = ["public", "private", "agent_only", "admin_only"]
    for start in range(0, MESSAGES, 500):
        await asyncio.gather(
            *(
                services.messages.add(
                    VIEWERS[3] if i % 4 == 3 else VIEWERS[i % 3],
                    sessions[i % len(sessions)],
                    f"message {i} about 'quoted' things",
                    visibility=visibility_name(kinds[i % 4]),
                    metadata={"n": i},
                    idempotency_key=f"k{i}" if i % 10 == 0 else None,
                )
                for i in range(start, min(start + 500, MESSAGES))
            )
        )
    await services.sessions.close(VIEWERS[0], sessions[0])
    for i in range(300):
        owner = VIEWERS[i % 3]
        scope = sessions[1] if i % 2 else None
        await services.memory.set(owner, f"note/{i}", {"i": i, "text": "é"}, session_id=scope)
    for viewer in VIEWERS[:3]:
        await services.coordination.presence.register(viewer, "busy", sessions[1], {"v": 1})
    await services.coordination.locks.coordinate(
        VIEWERS[0], sessions[1], "lock", ttl_seconds=3600, resource="src/app.py"
    )
    return sessions


TIME_DEPENDENT = {"ttl_remaining_seconds", "search_time_ms"}


def stable(value: Any) -> Any:
    """The answer without figures that depend on when it was asked."""
    if isinstance(value, BaseModel):
        return stable(value.model_dump())
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in TIME_DEPENDENT}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


async def answers(services: Services, sessions: list[str]) -> list[Any]:
    out: list[Any] = []
    for viewer in VIEWERS[:3]:
        out.append(await services.memory.list(viewer, session_id="all", limit=500))
        out.append(await services.memory.get(viewer, f"note/{4 * VIEWERS.index(viewer) % 6}"))
    out.append(await services.coordination.presence.active(VIEWERS[0], sessions[1]))
    out.append(
        await services.coordination.locks.coordinate(
            VIEWERS[1], sessions[1], "status", resource="src/app.py"
        )
    )
    out.append(await services.search.search_context(VIEWERS[0], sessions[1], "mesage quoted"))
    for viewer in VIEWERS:
        out.append(
            await services.sessions.list(
                viewer, active_only=False, created_by=None, limit=10, cursor=None
            )
        )
        for sid in sessions:
            out.append(await services.sessions.get(viewer, sid))
            out.append(await services.messages.get(viewer, sid, limit=100, since_id=1200))
            out.append(
                await services.messages.get_advanced(
                    viewer, sid, sender="alice", limit=20, include_admin_only=viewer.is_admin
                )
            )
    return out


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_migrate_copies_verifies_and_can_run_again(tmp_path: Path) -> None:
    source_settings = make_settings(tmp_path / "data")
    db = Path(source_settings.resolved_database_url().removeprefix("sqlite:///"))

    async def prepare() -> tuple[list[str], list[Any], int]:
        async with open_services(source_settings) as services:
            sessions = await fill(services)
            await services.store.revoke_token("jti-gone", 9e9)
            return sessions, await answers(services, sessions), services.store.stats()["writes"]

    sessions, expected, _ = run(prepare())
    schema = new_schema_name()
    runner = CliRunner()
    args = ["migrate", "--to", PG_URL, "--from", str(db), "--schema", schema, "--batch-size", "700"]
    try:
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "Migration verified" in first.output
        again = runner.invoke(app, args)
        assert again.exit_code == 0, again.output

        async def check() -> tuple[list[Any], MessagePosted]:
            target = make_settings(tmp_path / "pg", database_url=PG_URL, database_schema=schema)
            async with open_services(target) as services:
                got = await answers(services, sessions)
                added = await services.messages.add(VIEWERS[1], sessions[1], "after the move")
                return got, added

        got, added = run(check())
        assert stable(got) == stable(expected)
        assert added.message_id == MESSAGES + 1
    finally:
        run(drop_schema(schema))


def test_migrate_refuses_bad_arguments(tmp_path: Path) -> None:
    runner = CliRunner()
    wrong_scheme = runner.invoke(app, ["migrate", "--to", "mysql://x", "--from", str(tmp_path)])
    assert wrong_scheme.exit_code == 2
    missing = runner.invoke(
        app,
        [
            "migrate",
            "--to",
            url_with_schema("nowhere"),
            "--from",
            str(tmp_path / "absent.db"),
        ],
    )
    assert missing.exit_code == 2
    assert "No SQLite database" in missing.output
