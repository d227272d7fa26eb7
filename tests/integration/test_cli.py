"""The ``scs`` command line: keys, generated keys on first start, client-config."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from fastmcp import Client
from typer.testing import CliRunner

from shared_context.bootstrap import check_listen_address, open_services
from shared_context.cli.main import app
from shared_context.config import Settings
from shared_context.domain.errors import InvalidInput
from shared_context.mcp.server import build_mcp
from shared_context.services.first_start import GENERATED_KEYS_FILE
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY, call, fail

runner = CliRunner()


def scs(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"SCS_DATA_DIR": str(data_dir)})
    return result.exit_code, result.stdout, result.stderr


def db_bytes(data_dir: Path) -> bytes:
    out = b""
    for name in ("shared_context.db", "shared_context.db-wal"):
        path = data_dir / name
        if path.exists():
            out += path.read_bytes()
    return out


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, _ = scs(data, "keys", "create", "ci-bot")
    assert code == 0, out
    plain = out.strip().splitlines()[-1]
    assert plain.startswith("scs_") and len(plain) > 40
    code, out, _ = scs(data, "keys", "create", "ops", "--admin")
    assert code == 0
    admin_plain = out.strip().splitlines()[-1]

    code, out, _ = scs(data, "keys", "list")
    assert code == 0
    lines = {line.split()[1]: line for line in out.splitlines()}
    assert "read,write" in lines["ci-bot"] and "active" in lines["ci-bot"]
    assert "admin,read,write" in lines["ops"]
    assert plain not in out and admin_plain not in out

    code, out, _ = scs(data, "keys", "list", "--json")
    listed = {k["name"]: k for k in json.loads(out)}
    assert listed["ci-bot"]["permissions"] == ["read", "write"]
    assert listed["ci-bot"]["revoked_at"] is None

    code, _, err = scs(data, "keys", "create", "ci-bot")
    assert code == 2
    assert "already exists" in err

    code, out, _ = scs(data, "keys", "revoke", "ci-bot")
    assert code == 0 and "Revoked ci-bot" in out
    code, _, err = scs(data, "keys", "revoke", "ci-bot")
    assert code == 1 and "No active key" in err
    code, out, _ = scs(data, "keys", "list", "--json")
    assert {k["name"]: k for k in json.loads(out)}["ci-bot"]["revoked_at"] is not None
    code, out, _ = scs(data, "keys", "revoke", listed["ops"]["key_id"])
    assert code == 0

    stored = db_bytes(data)
    for secret in (plain, admin_plain):
        assert secret.encode() not in stored
    conn = sqlite3.connect(data / "shared_context.db")
    try:
        audited = conn.execute(
            "SELECT agent_id, event_type, details FROM audit_log "
            "WHERE event_type LIKE 'api_key_%' ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    assert [(a, e) for a, e, _ in audited] == [
        ("cli", "api_key_created"),
        ("cli", "api_key_created"),
        ("cli", "api_key_revoked"),
        ("cli", "api_key_revoked"),
    ]
    assert '"ci-bot"' in audited[0][2]


async def test_cli_created_key_authenticates_until_revoked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, _ = await asyncio.to_thread(scs, data, "keys", "create", "helper")
    assert code == 0
    plain = out.strip().splitlines()[-1]
    settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    async with open_services(settings) as services, Client(build_mcp(services)) as client:
        body = await call(
            client,
            "authenticate_agent",
            agent_id="helper",
            api_key=plain,
            requested_permissions=["read", "write", "admin"],
        )
        assert body["permissions"] == ["read", "write"]
    assert (await asyncio.to_thread(scs, data, "keys", "revoke", "helper"))[0] == 0
    async with open_services(settings) as services, Client(build_mcp(services)) as client:
        refused = await fail(client, "authenticate_agent", agent_id="helper", api_key=plain)
        assert refused["code"] == "INVALID_API_KEY"


async def test_first_start_generates_keys_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    async with open_services(settings) as services:
        names = sorted(k.name for k in await services.auth.keys.list())
    assert names == ["generated:admin", "generated:agent"]
    keys_file = data / GENERATED_KEYS_FILE
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    first = keys_file.read_text()
    values = dict(line.split("=", 1) for line in first.splitlines() if "=" in line)
    assert set(values) == {"SCS_API_KEY", "SCS_ADMIN_API_KEY"}
    for plain in values.values():
        assert plain.encode() not in db_bytes(data)
    async with open_services(settings) as services, Client(build_mcp(services)) as client:
        assert len(await services.auth.keys.list()) == 2  # nothing regenerated
        body = await call(
            client,
            "authenticate_agent",
            agent_id="a",
            api_key=values["SCS_ADMIN_API_KEY"],
            requested_permissions=["admin"],
        )
        assert body["permissions"] == ["admin"]
    assert keys_file.read_text() == first


def test_first_start_through_the_cli_reports_where_keys_are(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    code, _, _ = scs(data, "keys", "list")
    assert code == 0
    assert str(data / GENERATED_KEYS_FILE) in caplog.text
    assert "0600" in caplog.text


async def test_changing_a_configured_key_revokes_the_previous_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    new_key = "rotated-agent-key-0123456789abcdef"
    async with open_services(make_settings(data)):
        pass
    rotated = make_settings(data, api_key=new_key)
    async with open_services(rotated) as services, Client(build_mcp(services)) as client:
        old = await fail(client, "authenticate_agent", agent_id="a", api_key=AGENT_KEY)
        assert old["code"] == "INVALID_API_KEY"
        await call(client, "authenticate_agent", agent_id="a", api_key=new_key)
    assert not (data / GENERATED_KEYS_FILE).exists()


def test_client_config_unknown_client(tmp_path: Path) -> None:
    code, _, err = scs(tmp_path, "client-config", "emacs")
    assert code == 2
    assert "claude-code" in err


def test_serve_refuses_unknown_transport(tmp_path: Path) -> None:
    code, _, err = scs(tmp_path, "serve", "--transport", "carrier-pigeon")
    assert code != 0
    assert "transport" in err.lower()


@pytest.mark.parametrize(
    ("host", "configured", "allow", "ok"),
    [
        ("127.0.0.1", False, False, True),
        ("localhost", False, False, True),
        ("::1", False, False, True),
        ("0.0.0.0", False, False, False),
        ("192.168.1.5", False, False, False),
        ("0.0.0.0", True, False, True),
        ("0.0.0.0", False, True, True),
    ],
)
def test_listen_address_rule(
    tmp_path: Path, host: str, configured: bool, allow: bool, ok: bool
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        host=host,
        allow_remote=allow,
        api_key=AGENT_KEY if configured else None,
    )
    if ok:
        check_listen_address(settings)
    else:
        with pytest.raises(InvalidInput, match="--allow-remote"):
            check_listen_address(settings)


def test_generated_keys_file_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    # The keys file is created 0600 via os.open; the database itself holds only hashes.
    data = tmp_path / "data"
    previous = os.umask(0)
    try:
        assert scs(data, "keys", "list")[0] == 0
    finally:
        os.umask(previous)
    conn = sqlite3.connect(data / "shared_context.db")
    try:
        hashes = [row[0] for row in conn.execute("SELECT key_hash FROM api_keys")]
    finally:
        conn.close()
    assert all(len(h) == 64 for h in hashes)
    assert stat.S_IMODE((data / GENERATED_KEYS_FILE).stat().st_mode) == 0o600


def test_serve_refuses_a_short_jwt_secret(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["serve", "--port", "0"],
        env={"SCS_DATA_DIR": str(tmp_path), "SCS_JWT_SECRET": "too-short"},
    )
    assert result.exit_code == 2
    assert "at least 32 bytes" in result.stderr
