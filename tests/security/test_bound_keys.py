"""Keys bound to agents (SPEC §16): a key bound to ``claude-*`` can never act as ``gemini-1`` —
not through authenticate_agent, not through connection headers, not through the stdio
environment — and the four-agent visibility matrix holds with one bound key per agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastmcp import Client

from shared_context.bootstrap import open_services
from shared_context.domain.bindings import allows, parse_binding
from shared_context.domain.errors import InvalidInput
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.e2e.live import serve_http
from tests.helpers import AGENT_KEY, call, fail
from tests.integration.test_connection_identity import connect, identity, ok, refused


def test_binding_rule() -> None:
    binding = parse_binding(["claude-*", "alice", " ", "alice"])
    assert binding == ("alice", "claude-*")
    assert allows(binding, "claude-1") and allows(binding, "claude-")
    assert allows(binding, "alice")
    assert not allows(binding, "gemini-1") and not allows(binding, "alice2")
    assert not allows(binding, "xclaude-1")
    assert allows((), "anyone")  # a team key
    for bad in ("*", "a b", "-x*", "claude**", "x" * 101):
        with pytest.raises(InvalidInput):
            parse_binding([bad])


async def test_bound_key_cannot_act_as_another_agent_on_any_path(
    services: Services, tmp_path: Path
) -> None:
    _, plain = await services.auth.keys.create("claudes", AGENT_CEILING, ["claude-*"])
    # authenticate_agent
    async with Client(build_mcp(services)) as client:
        await call(client, "authenticate_agent", agent_id="claude-1", api_key=plain)
        body = await fail(client, "authenticate_agent", agent_id="gemini-1", api_key=plain)
        assert body["code"] == "PERMISSION_DENIED"
        assert "claude-*" in body["message"]
    # connection headers
    async with serve_http(services) as url:
        async with connect(url, identity("claude-2", key=plain)) as claude:
            await ok(claude, "list_sessions")
        async with connect(url, identity("gemini-1", "gemini", key=plain)) as gemini:
            assert (await refused(gemini, "list_sessions"))["code"] == "PERMISSION_DENIED"
            with pytest.raises(Exception, match="PERMISSION_DENIED"):
                await gemini.read_resource("agent://gemini-1/memory")


async def test_bound_key_in_the_stdio_environment(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with open_services(make_settings(data)) as services:
        _, plain = await services.auth.keys.create("claudes", AGENT_CEILING, ["claude-*"])
    as_gemini = make_settings(data, api_key=plain, agent_id="gemini-1", agent_type="gemini")
    async with open_services(as_gemini) as services, Client(build_mcp(services)) as client:
        assert (await fail(client, "list_sessions"))["code"] == "PERMISSION_DENIED"
        # the client's key was verified, not installed as a server key
        names = [k.name for k in await services.auth.keys.list()]
        assert names.count("claudes") == 1 and not any(n.endswith(plain[-8:]) for n in names)
    as_claude = make_settings(data, api_key=plain, agent_id="claude-7", agent_type="claude")
    async with open_services(as_claude) as services, Client(build_mcp(services)) as client:
        sid = (await call(client, "create_session", purpose="stdio env"))["session_id"]
        await call(client, "add_message", session_id=sid, content="from env")
        messages = (await call(client, "get_messages", session_id=sid))["messages"]
        assert [(m["sender"], m["sender_type"]) for m in messages] == [("claude-7", "claude")]
    wrong = make_settings(data, api_key="no-such-key-0123456789", agent_id="claude-7")
    async with open_services(wrong) as services, Client(build_mcp(services)) as client:
        assert (await fail(client, "list_sessions"))["code"] == "INVALID_API_KEY"
        env_keys = [k for k in await services.auth.keys.list() if k.name.startswith("env:agent")]
        assert len(env_keys) == 1 and env_keys[0].revoked_at is None  # the server's, kept
    no_agent = make_settings(data, api_key=plain)  # SCS_API_KEY alone configures the server
    async with open_services(no_agent) as services, Client(build_mcp(services)) as client:
        body = await fail(client, "list_sessions")
        assert body["code"] == "AUTH_REQUIRED" and "SCS_AGENT_ID" in body["message"]


async def test_settings_given_key_binding(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with (
        open_services(make_settings(data, api_key_agents="claude-*,ops")) as services,
        Client(build_mcp(services)) as client,
    ):
        await call(client, "authenticate_agent", agent_id="claude-1", api_key=AGENT_KEY)
        await call(client, "authenticate_agent", agent_id="ops", api_key=AGENT_KEY)
        body = await fail(client, "authenticate_agent", agent_id="gemini-1", api_key=AGENT_KEY)
        assert body["code"] == "PERMISSION_DENIED"
    # A changed binding applies on the next start; empty makes it a team key again.
    async with (
        open_services(make_settings(data, api_key_agents="gemini-*")) as services,
        Client(build_mcp(services)) as client,
    ):
        await call(client, "authenticate_agent", agent_id="gemini-1", api_key=AGENT_KEY)
        body = await fail(client, "authenticate_agent", agent_id="claude-1", api_key=AGENT_KEY)
        assert body["code"] == "PERMISSION_DENIED"
    async with (
        open_services(make_settings(data)) as services,
        Client(build_mcp(services)) as client,
    ):
        await call(client, "authenticate_agent", agent_id="claude-1", api_key=AGENT_KEY)


async def test_four_agent_matrix_with_one_bound_key_each(services: Services) -> None:
    agents = {
        "alice": ("claude", AGENT_CEILING, None),
        "bob": ("claude", AGENT_CEILING, None),
        "gina": ("gemini", AGENT_CEILING, None),
        "root": ("ops", ALL_PERMISSIONS, "read,write,admin"),
    }
    headers = {}
    for agent, (kind, ceiling, perms) in agents.items():
        _, plain = await services.auth.keys.create(f"key-{agent}", ceiling, [agent])
        headers[agent] = identity(agent, kind, key=plain, permissions=perms)
    seen: dict[str, list[str]] = {}
    async with serve_http(services) as url:
        async with connect(url, headers["alice"]) as alice:
            sid = (await ok(alice, "create_session", purpose="matrix"))["session_id"]
            for vis in ("public", "private", "agent_only"):
                await ok(
                    alice, "add_message", session_id=sid, content=f"{vis} note", visibility=vis
                )
        async with connect(url, headers["root"]) as root:
            await ok(
                root, "add_message", session_id=sid, content="admin note", visibility="admin_only"
            )
        for agent in agents:
            async with connect(url, headers[agent]) as client:
                body = await ok(client, "get_messages", session_id=sid)
                seen[agent] = [m["content"] for m in body["messages"]]
                found = await ok(client, "search_context", session_id=sid, query="note")
                assert sorted(r["message"]["content"] for r in found["results"]) == sorted(
                    seen[agent]
                )
        # Each key acts only as its own agent: alice's key cannot be bob.
        stolen = {**headers["alice"], "X-Agent-Id": "bob"}
        async with connect(url, stolen) as thief:
            assert (await refused(thief, "get_messages", session_id=sid))["code"] == (
                "PERMISSION_DENIED"
            )
    assert seen == {
        "alice": ["public note", "private note", "agent_only note"],
        "bob": ["public note", "agent_only note"],
        "gina": ["public note"],
        "root": ["public note", "admin note"],
    }


def test_keys_cli_binds_and_lists(tmp_path: Path) -> None:
    from tests.integration.test_cli import scs

    data = tmp_path / "data"
    code, out, _ = scs(data, "keys", "create", "claudes", "--agent-prefix", "claude-")
    assert code == 0 and "claude-*" in out
    code, out, _ = scs(data, "keys", "create", "pair", "--agent", "alice", "--agent", "bob")
    assert code == 0
    code, out, _ = scs(data, "keys", "create", "team")
    assert code == 0 and "team key" in out
    code, out, _ = scs(data, "keys", "list")
    rows = {line.split()[1]: line for line in out.splitlines()[1:]}
    assert rows["claudes"].rstrip().endswith("claude-*")
    assert rows["pair"].rstrip().endswith("alice,bob")
    assert "read,write" in rows["team"] and "team key" in rows["team"]
    listed = {k["name"]: k for k in json.loads(scs(data, "keys", "list", "--json")[1])}
    assert listed["claudes"]["agents"] == ["claude-*"]
    assert listed["team"]["agents"] == []
    code, _, err = scs(data, "keys", "create", "bad", "--agent", "no spaces")
    assert code == 2 and "Not an agent id" in err
