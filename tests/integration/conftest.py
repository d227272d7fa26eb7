"""Integration tests run once per storage backend: ``settings`` is parametrised here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared_context.config import Settings
from tests.conftest import make_settings
from tests.pgtools import BACKENDS, PG_URL, fresh_schema


@pytest.fixture(params=BACKENDS)
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    if request.param == "sqlite":
        yield make_settings(tmp_path / "data")
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("tests SQLite itself")
    async with fresh_schema() as schema:
        yield make_settings(tmp_path / "data", database_url=PG_URL, database_schema=schema)
