"""A real ``scs serve`` over Streamable HTTP on 127.0.0.1, driven by the official MCP SDK."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import ADMIN_KEY, AGENT_KEY
from tests.server_process import (
    INIT,
    ServerProcess,
    free_port,
    run_scs,
    sdk_call,
    sdk_client,
    sdk_fail,
    server_env,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("http") / "data"
    with ServerProcess(data).start() as server:
        yield server


async def sdk_login(url: str, agent_id: str, agent_type: str, *, admin: bool = False) -> str:
    async with sdk_client(url) as client:
        body = await sdk_call(
            client,
            "authenticate_agent",
            agent_id=agent_id,
            agent_type=agent_type,
            api_key=ADMIN_KEY if admin else AGENT_KEY,
            requested_permissions=["read", "write", "admin"] if admin else ["read", "write"],
        )
    return str(body["token"])


async def test_four_agent_workflow_over_http_with_token_arguments(
    http_server: ServerProcess,
) -> None:
    async with sdk_client(http_server.url) as client:
        tokens = {}
        for agent, kind, admin in (
            ("alice", "claude", False),
            ("bob", "claude", False),
            ("gina", "gemini", False),
            ("root", "ops", True),
        ):
            body = await sdk_call(
                client,
                "authenticate_agent",
                agent_id=agent,
                agent_type=kind,
                api_key=ADMIN_KEY if admin else AGENT_KEY,
                requested_permissions=["read", "write", "admin"] if admin else None,
            )
            tokens[agent] = body["token"]
        sid = (
            await sdk_call(client, "create_session", purpose="http", auth_token=tokens["alice"])
        )["session_id"]
        for vis in ("public", "private", "agent_only"):
            await sdk_call(
                client,
                "add_message",
                session_id=sid,
                content=f"{vis} note",
                visibility=vis,
                auth_token=tokens["alice"],
            )
        denied = await sdk_fail(
            client,
            "add_message",
            session_id=sid,
            content="x",
            visibility="admin_only",
            auth_token=tokens["alice"],
        )
        assert denied["code"] == "PERMISSION_DENIED"
        await sdk_call(
            client,
            "add_message",
            session_id=sid,
            content="admin note",
            visibility="admin_only",
            auth_token=tokens["root"],
        )
        seen = {}
        for agent, token in tokens.items():
            body = await sdk_call(client, "get_messages", session_id=sid, auth_token=token)
            seen[agent] = [m["content"] for m in body["messages"]]
    assert seen == {
        "alice": ["public note", "private note", "agent_only note"],
        "bob": ["public note", "agent_only note"],
        "gina": ["public note"],
        "root": ["public note", "admin note"],
    }


async def test_bearer_header_and_api_key_header(http_server: ServerProcess) -> None:
    async with sdk_client(http_server.url, headers={"X-API-Key": AGENT_KEY}) as client:
        body = await sdk_call(client, "authenticate_agent", agent_id="hdr", agent_type="claude")
        token = body["token"]
        assert body["permissions"] == ["read", "write"]
    async with sdk_client(http_server.url, headers={"Authorization": f"Bearer {token}"}) as client:
        sid = (await sdk_call(client, "create_session", purpose="bearer"))["session_id"]
        await sdk_call(client, "add_message", session_id=sid, content="via header")
        body = await sdk_call(client, "get_messages", session_id=sid)
        assert [(m["sender"], m["content"]) for m in body["messages"]] == [("hdr", "via header")]
        # The auth_token argument wins over the header: another agent, same connection.
        other = await sdk_login(http_server.url, "other", "gemini")
        await sdk_call(
            client,
            "add_message",
            session_id=sid,
            content="private",
            visibility="private",
            auth_token=other,
        )
        mine = await sdk_call(client, "get_messages", session_id=sid)
        assert [m["content"] for m in mine["messages"]] == ["via header"]
    async with sdk_client(http_server.url, headers={"Authorization": "Bearer junk"}) as client:
        assert (await sdk_fail(client, "list_sessions"))["code"] == "TOKEN_INVALID"
    async with sdk_client(http_server.url, headers={"Authorization": f"Basic {token}"}) as client:
        assert (await sdk_fail(client, "list_sessions"))["code"] == "AUTH_REQUIRED"
    async with sdk_client(http_server.url, headers={"X-API-Key": "wrong"}) as client:
        refused = await sdk_fail(client, "authenticate_agent", agent_id="hdr")
        assert refused["code"] == "INVALID_API_KEY"


MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def test_foreign_origin_and_host_are_refused(http_server: ServerProcess) -> None:
    with httpx.Client(base_url=http_server.base, timeout=10) as http:
        evil = http.post(
            "/mcp", json=INIT, headers={**MCP_HEADERS, "Origin": "https://evil.example"}
        )
        assert evil.status_code == 403
        rebinding = http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "Host": "evil.example"})
        assert rebinding.status_code == 421
        local = http.post(
            "/mcp",
            json=INIT,
            headers={**MCP_HEADERS, "Origin": f"http://127.0.0.1:{http_server.port}"},
        )
        assert local.status_code == 200, local.text
        assert http.get("/health").json()["status"] == "ok"


def test_oversized_body_gets_413(http_server: ServerProcess) -> None:
    big = (
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":"'
        + b"x" * (20 * 1024 * 1024)
        + b'"}}'
    )
    with httpx.Client(base_url=http_server.base, timeout=30) as http:
        declared = http.post(
            "/mcp", content=big, headers={**MCP_HEADERS, "Content-Type": "application/json"}
        )
        assert declared.status_code == 413
        assert declared.json()["code"] == "INVALID_INPUT"

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while streaming
            for start in range(0, len(big), 1 << 20):
                yield big[start : start + (1 << 20)]

        streamed = http.post(
            "/mcp", content=chunks(), headers={**MCP_HEADERS, "Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert http.get("/health").status_code == 200


def test_remote_listen_with_generated_keys_is_refused(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", keys=False)
    result = run_scs("serve", "--host", "0.0.0.0", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert "Refusing to listen on 0.0.0.0" in result.stderr
    assert "--allow-remote" in result.stderr


async def test_allow_remote_starts_and_generated_keys_work(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data, env=server_env(data, keys=False), host="0.0.0.0")
    with server.start("--allow-remote"):
        keys_file = data / "api_keys.txt"
        assert keys_file.stat().st_mode & 0o777 == 0o600
        assert str(keys_file) in server.log()
        values = dict(
            line.split("=", 1) for line in keys_file.read_text().splitlines() if "=" in line
        )
        agent_key = values["SCS_API_KEY"]
        # Loopback only: the test never connects to a non-loopback address.
        async with sdk_client(server.url) as client:
            body = await sdk_call(
                client,
                "authenticate_agent",
                agent_id="gen",
                api_key=agent_key,
                requested_permissions=["read", "write", "admin"],
            )
            assert body["permissions"] == ["read", "write"]
            admin = await sdk_call(
                client,
                "authenticate_agent",
                agent_id="gen-admin",
                api_key=values["SCS_ADMIN_API_KEY"],
                requested_permissions=["admin"],
            )
            assert admin["permissions"] == ["admin"]
    db = (data / "shared_context.db").read_bytes()
    for suffix in ("-wal",):
        wal = data / f"shared_context.db{suffix}"
        if wal.exists():
            db += wal.read_bytes()
    for plain in values.values():
        assert plain.encode() not in db


def post_rpc(http: httpx.Client, body: bytes, session: str | None = None) -> httpx.Response:
    headers = {**MCP_HEADERS, "Content-Type": "application/json"}
    if session:
        headers["Mcp-Session-Id"] = session
        headers["Mcp-Protocol-Version"] = "2025-06-18"
    return http.post("/mcp", content=body, headers=headers)


def test_hostile_json_over_raw_http_gets_a_clear_answer(http_server: ServerProcess) -> None:
    with httpx.Client(base_url=http_server.base, timeout=30) as http:
        init = post_rpc(http, json.dumps(INIT).encode())
        assert init.status_code == 200, init.text
        session = init.headers.get("mcp-session-id")
        post_rpc(
            http,
            b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
            session,
        )
        deep = "{" + '"a":{' * 1000 + "}" * 1000 + "}"
        call = (
            '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_message",'
            '"arguments":{"session_id":"session_0123456789abcdef","content":"x",'
            '"metadata":' + deep + "}}}"
        )
        for body in (call.encode(), b"{not json", b"\xff\xfe", b"[]", b'"str"'):
            response = post_rpc(http, body, session)
            assert response.status_code < 500, (body[:40], response.status_code, response.text)
            if response.status_code == 200:
                assert "error" in response.text or '"isError":true' in response.text
        assert http.get("/health").status_code == 200


async def test_four_agent_workflow_with_bearer_headers(http_server: ServerProcess) -> None:
    agents = (("alice", "claude", False), ("bob", "claude", False), ("gina", "gemini", False))
    tokens = {
        a: await sdk_login(http_server.url, a, kind, admin=admin) for a, kind, admin in agents
    }
    tokens["root"] = await sdk_login(http_server.url, "root", "ops", admin=True)
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            agent: await stack.enter_async_context(
                sdk_client(http_server.url, headers={"Authorization": f"Bearer {token}"})
            )
            for agent, token in tokens.items()
        }
        sid = (await sdk_call(clients["alice"], "create_session", purpose="bearer"))["session_id"]
        for vis in ("public", "private", "agent_only"):
            await sdk_call(
                clients["alice"], "add_message", session_id=sid, content=vis, visibility=vis
            )
        denied = await sdk_fail(
            clients["bob"], "add_message", session_id=sid, content="x", visibility="admin_only"
        )
        assert denied["code"] == "PERMISSION_DENIED"
        await sdk_call(
            clients["root"], "add_message", session_id=sid, content="admin", visibility="admin_only"
        )
        seen = {}
        for agent, client in clients.items():
            body = await sdk_call(client, "get_messages", session_id=sid)
            seen[agent] = [(m["sender"], m["content"]) for m in body["messages"]]
    assert seen == {
        "alice": [("alice", "public"), ("alice", "private"), ("alice", "agent_only")],
        "bob": [("alice", "public"), ("alice", "agent_only")],
        "gina": [("alice", "public")],
        "root": [("alice", "public"), ("root", "admin")],
    }
