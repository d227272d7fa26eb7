"""A real ``scs serve --transport stdio`` identified only by its environment (SCS_API_KEY +
SCS_AGENT_ID + SCS_AGENT_TYPE), driven by the official SDK's stdio client: tools, resource
reads and subscriptions act as that agent, with no token anywhere."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from mcp.client.client import Client as SdkClient
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from shared_context.bootstrap import open_services
from shared_context.domain.permissions import AGENT_CEILING
from tests.conftest import make_settings
from tests.server_process import sdk_call, sdk_fail, server_env

pytestmark = pytest.mark.slow


def stdio(data: Path, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "shared_context.cli.main", "serve", "--transport", "stdio"],
        env=server_env(data, keys=False, **env),
    )


async def test_environment_identity_over_a_real_stdio_process(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with open_services(make_settings(data)) as services:
        _, key = await services.auth.keys.create("claudes", AGENT_CEILING, ["claude-*"])
    errlog = (tmp_path / "stdio.log").open("w")
    me = stdio(data, SCS_API_KEY=key, SCS_AGENT_ID="claude-7", SCS_AGENT_TYPE="claude")
    other = stdio(data, SCS_API_KEY=key, SCS_AGENT_ID="claude-8", SCS_AGENT_TYPE="claude")
    try:
        async with SdkClient(stdio_client(me, errlog=errlog)) as client:
            sid = (await sdk_call(client, "create_session", purpose="env"))["session_id"]
            await sdk_call(client, "add_message", session_id=sid, content="mine",
                           visibility="private")  # fmt: skip
            await sdk_call(client, "set_memory", key="k", value=[1, 2])
            res = await client.read_resource(f"session://{sid}")
            body = json.loads(res.contents[0].text)  # type: ignore[union-attr]
            assert [(m["sender"], m["content"]) for m in body["messages"]] == [("claude-7", "mine")]
            memory = await client.read_resource("agent://claude-7/memory")
            assert "[1, 2]" in memory.contents[0].text or "[1,2]" in memory.contents[0].text  # type: ignore[union-attr]
            with pytest.raises(MCPError):
                await client.read_resource("agent://claude-8/memory")
            async with client.listen(resource_subscriptions=[f"session://{sid}"]) as sub:
                events = aiter(sub)
                async with SdkClient(stdio_client(other, errlog=errlog)) as second:
                    await sdk_call(second, "add_message", session_id=sid, content="from 8")
                    # the other process's post reaches this subscriber (SPEC §15 change feed)
                    # or, without it, this process's own next post does
                    await sdk_call(client, "add_message", session_id=sid, content="seen")
                    event = await asyncio.wait_for(anext(events), 20)
                    assert str(event.uri) == f"session://{sid}"  # type: ignore[union-attr]
                    theirs = await sdk_call(second, "get_messages", session_id=sid)
                    assert [m["content"] for m in theirs["messages"]] == ["from 8", "seen"]
            # auth_token still overrides the environment identity.
            token = (
                await sdk_call(client, "authenticate_agent", agent_id="claude-9", api_key=key)
            )["token"]
            await sdk_call(client, "add_message", session_id=sid, content="nine",
                           auth_token=token)  # fmt: skip
            last = (await sdk_call(client, "get_messages", session_id=sid))["messages"][-1]
            assert last["sender"] == "claude-9"
            refused = await sdk_fail(client, "authenticate_agent", agent_id="gemini-1",
                                     api_key=key)  # fmt: skip
            assert refused["code"] == "PERMISSION_DENIED"
        wrong = stdio(data, SCS_API_KEY="wrong-key-0123456789", SCS_AGENT_ID="claude-7")
        async with SdkClient(stdio_client(wrong, errlog=errlog)) as client:
            assert (await sdk_fail(client, "list_sessions"))["code"] == "INVALID_API_KEY"
            with pytest.raises(MCPError, match="INVALID_API_KEY"):
                await client.read_resource(f"session://{sid}")
    finally:
        errlog.close()
    assert "Traceback" not in (tmp_path / "stdio.log").read_text()
