"""A real ``scs serve`` over Streamable HTTP on 127.0.0.1, driven by the official MCP SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import ADMIN_KEY, AGENT_KEY
from tests.server_process import (
    ServerProcess,
    sdk_call,
    sdk_client,
    sdk_fail,
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
