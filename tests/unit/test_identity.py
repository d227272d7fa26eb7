"""Who is calling, outside HTTP: the stdio agent token for resources, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from shared_context.bootstrap import open_services
from shared_context.cli.main import settings_from
from shared_context.domain.errors import AuthError
from shared_context.mcp.identity import bearer_token, caller, header_api_key, resource_reader
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY


async def token_for(services: Services, agent_id: str) -> str:
    body = await services.auth.authenticate(agent_id, "claude", AGENT_KEY, None)
    return str(body.token)


async def test_outside_http_there_are_no_headers(services: Services) -> None:
    assert bearer_token() is None
    assert header_api_key() is None
    with pytest.raises(AuthError) as caught:
        await caller(services, None)
    assert caught.value.code == "AUTH_REQUIRED"
    token = await token_for(services, "alice")
    assert (await caller(services, token)).agent_id == "alice"


async def test_resource_reader_uses_the_stdio_agent_token(tmp_path: Path) -> None:
    async with open_services(make_settings(tmp_path / "a")) as services:
        with pytest.raises(AuthError):
            await resource_reader(services)  # no token configured: refused
        token = await token_for(services, "stdio-agent")
    async with open_services(
        make_settings(tmp_path / "a", agent_token=SecretStr(token))
    ) as services:
        assert (await resource_reader(services)).agent_id == "stdio-agent"


def test_settings_from_cli_options(tmp_path: Path) -> None:
    settings = settings_from(str(tmp_path / "x.db"), tmp_path)
    assert settings.data_dir == tmp_path
    assert settings.resolved_database_url() == f"sqlite:///{(tmp_path / 'x.db').resolve()}"
    url = settings_from("sqlite:///elsewhere.db", None).resolved_database_url()
    assert url == "sqlite:///elsewhere.db"
