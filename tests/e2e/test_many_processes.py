"""Real ``scs serve`` processes on one data directory are one server (SPEC §15): two over
Streamable HTTP and one over stdio (the official SDK's stdio client), as when a long-running
server and a coding assistant's own stdio server share the default data directory."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp.types as mt
import pytest
from mcp.client.client import Client as SdkClient
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPDeprecationWarning

from tests.e2e.live import sdk_client as bearer_client
from tests.helpers import AGENT_KEY
from tests.server_process import ServerProcess, scs_command, sdk_client, server_env

pytestmark = pytest.mark.slow


@dataclass
class Node:
    """One process, as its clients see it: a tool call that returns the structured body."""

    name: str
    client: SdkClient

    async def call(self, tool: str, **args: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, args)
        body = result.structured_content
        assert isinstance(body, dict), result
        return body

    async def ok(self, tool: str, **args: Any) -> dict[str, Any]:
        body = await self.call(tool, **args)
        assert body["success"] is True, f"{self.name} {tool}: {body}"
        return body

    async def login(self, agent: str, kind: str = "claude") -> str:
        body = await self.ok(
            "authenticate_agent", agent_id=agent, agent_type=kind, api_key=AGENT_KEY
        )
        return str(body["token"])


@asynccontextmanager
async def three_processes(tmp_path: Path) -> AsyncIterator[tuple[Node, Node, Node, str]]:
    data = tmp_path / "data"
    async with AsyncExitStack() as stack:
        a = stack.enter_context(ServerProcess(data).start())
        b = stack.enter_context(ServerProcess(data).start())
        errlog = stack.enter_context((tmp_path / "stdio.log").open("w"))
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "shared_context.cli.main", "serve", "--transport", "stdio"],
            env=server_env(data),
        )
        on_a = await stack.enter_async_context(sdk_client(a.url))
        on_b = await stack.enter_async_context(sdk_client(b.url))
        on_c = await stack.enter_async_context(SdkClient(stdio_client(params, errlog=errlog)))
        yield Node("http-a", on_a), Node("http-b", on_b), Node("stdio-c", on_c), b.url


async def contents(node: Node, sid: str, token: str) -> list[str]:
    page = await node.ok("get_messages", session_id=sid, auth_token=token)
    return [m["content"] for m in page["messages"]]


async def test_three_processes_share_one_blackboard(tmp_path: Path) -> None:
    async with three_processes(tmp_path) as (a, b, c, b_url):
        nodes = [a, b, c]
        tokens = {node.name: await node.login(f"agent-{node.name}") for node in nodes}
        sid = (await a.ok("create_session", purpose="many", auth_token=tokens[a.name]))[
            "session_id"
        ]
        expected: list[str] = []
        for writer in nodes:
            # Every reader has a warm cache of the page before the write.
            for reader in nodes:
                for _ in range(2):
                    assert await contents(reader, sid, tokens[reader.name]) == expected
            text = f"posted through {writer.name}"
            await writer.ok(
                "add_message", session_id=sid, content=text, auth_token=tokens[writer.name]
            )
            expected.append(text)
            # The very first read in every other process returns it: no wait, no retry.
            for reader in nodes:
                assert await contents(reader, sid, tokens[reader.name]) == expected, reader.name

        # A waiter in each process wakes for a post made through another one.
        for waiter, poster in ((a, b), (b, c), (c, a)):
            last = (
                await waiter.ok("get_messages", session_id=sid, auth_token=tokens[waiter.name])
            )["messages"][-1]["id"]
            waiting = asyncio.create_task(
                waiter.ok(
                    "wait_for_messages",
                    session_id=sid,
                    after_id=last,
                    timeout_seconds=30,
                    auth_token=tokens[waiter.name],
                )
            )
            await asyncio.sleep(0)  # let the wait reach its process before the post
            for _ in range(100):  # post until the waiter (already subscribed) wakes; bounded
                await poster.ok(
                    "add_message",
                    session_id=sid,
                    content=f"wake {waiter.name}",
                    auth_token=tokens[poster.name],
                )
                done, _ = await asyncio.wait({waiting}, timeout=0.5)
                if done:
                    break
            body = await asyncio.wait_for(waiting, 10)
            assert body["timed_out"] is False
            assert body["messages"][0]["content"] == f"wake {waiter.name}"

        # A private post through A never reaches another agent through B or C: get, search,
        # wait, resource.
        await a.ok(
            "add_message",
            session_id=sid,
            content="private zircon note",
            visibility="private",
            auth_token=tokens[a.name],
        )
        for reader in (b, c):
            token = tokens[reader.name]
            assert "private zircon note" not in await contents(reader, sid, token)
            found = await reader.ok(
                "search_context", session_id=sid, query="zircon", auth_token=token
            )
            assert found["results"] == []
            waited = await reader.ok(
                "wait_for_messages",
                session_id=sid,
                after_id=0,
                timeout_seconds=0,
                limit=1000,
                auth_token=token,
            )
            assert all(m["visibility"] != "private" for m in waited["messages"])
        async with bearer_client(b_url, tokens[b.name]) as bob_client:
            resource = await bob_client.read_resource(f"session://{sid}")
            text = resource.contents[0].text  # type: ignore[union-attr]
            assert "zircon" not in text
        # ... while alice's own identity sees it through every process.
        for reader in nodes:
            assert "private zircon note" in await contents(reader, sid, tokens[a.name])


class Inbox:
    def __init__(self) -> None:
        self.uris: asyncio.Queue[str] = asyncio.Queue()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, mt.ResourceUpdatedNotification):
            self.uris.put_nowait(str(message.params.uri))


async def test_subscriptions_and_locks_span_processes(tmp_path: Path) -> None:
    async with three_processes(tmp_path) as (a, b, c, b_url):
        alice = await c.login("alice")
        bob = await b.login("bob")
        sid = (await c.ok("create_session", purpose="subs", auth_token=alice))["session_id"]
        inbox = Inbox()
        async with bearer_client(b_url, bob, mode="legacy", message_handler=inbox) as legacy:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await legacy.subscribe_resource(f"session://{sid}")
            # The notification stream opens asynchronously: post through stdio until B delivers.
            for attempt in range(60):
                await c.ok("add_message", session_id=sid, content=f"n{attempt}", auth_token=alice)
                try:
                    assert await asyncio.wait_for(inbox.uris.get(), 0.5) == f"session://{sid}"
                    break
                except TimeoutError:
                    continue
            else:
                raise AssertionError("no notification reached the subscriber on B")
        async with (
            bearer_client(b_url, bob) as modern,
            modern.listen(resource_subscriptions=[f"session://{sid}"]) as sub,
        ):
            events = aiter(sub)
            await a.ok("add_message", session_id=sid, content="to the listener", auth_token=alice)
            event = await asyncio.wait_for(anext(events), 15)
            assert str(event.uri) == f"session://{sid}"  # type: ignore[union-attr]

        # A write lock taken through stdio is refused through both HTTP processes.
        await c.ok("coordinate_session_work", session_id=sid, action="lock", auth_token=alice)
        for other in (a, b):
            refused = await other.call(
                "coordinate_session_work", session_id=sid, action="lock", auth_token=bob
            )
            assert refused["code"] == "SESSION_LOCKED" and refused["details"]["holder"] == "alice"
            blocked = await other.call("add_message", session_id=sid, content="x", auth_token=bob)
            assert blocked["code"] == "SESSION_LOCKED"
        await c.ok("coordinate_session_work", session_id=sid, action="unlock", auth_token=alice)
        await b.ok("add_message", session_id=sid, content="after unlock", auth_token=bob)


@pytest.mark.timeout(300)  # five interpreters start at once on a 2-core machine
def test_five_processes_started_at_once_on_an_empty_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = server_env(data, keys=False)  # nothing configured: keys and secret are generated
    servers = [ServerProcess(data, env=env) for _ in range(5)]
    logs = []
    try:
        for server in servers:  # spawn all before waiting for any
            log = server.log_path.open("ab")
            logs.append(log)
            server.proc = subprocess.Popen(
                scs_command("serve", "--host", "127.0.0.1", "--port", str(server.port)),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for server in servers:
            server.wait_healthy(timeout=120)
        key_files = sorted(p.name for p in data.iterdir() if "api_keys" in p.name)
        assert key_files == ["api_keys.txt"]
        values = dict(
            line.split("=", 1)
            for line in (data / "api_keys.txt").read_text().splitlines()
            if "=" in line
        )
        db = sqlite3.connect(data / "shared_context.db")
        try:
            versions = [r[0] for r in db.execute("SELECT version FROM schema_version")]
            secrets = db.execute(
                "SELECT COUNT(*) FROM server_secrets WHERE name = 'jwt_secret'"
            ).fetchone()[0]
            keys = db.execute("SELECT name FROM api_keys ORDER BY name").fetchall()
        finally:
            db.close()
        assert len(versions) == len(set(versions))
        assert secrets == 1
        assert [k[0] for k in keys] == ["generated:admin", "generated:agent"]
        # Every process accepts the one generated key, and a token minted by one is valid on
        # all the others (one JWT secret).
        token = None
        for server in servers:
            token = asyncio.run(_login_and_list(server.url, values["SCS_API_KEY"], token))
    finally:
        for server in servers:
            server.stop()
        for log in logs:
            log.close()


async def _login_and_list(url: str, key: str, token: str | None) -> str:
    async with sdk_client(url) as client:
        if token is not None:
            listed = await client.call_tool("list_sessions", {"auth_token": token})
            assert not listed.is_error, listed.structured_content
        body = (
            await client.call_tool(
                "authenticate_agent", {"agent_id": "starter", "agent_type": "t", "api_key": key}
            )
        ).structured_content
        assert body is not None and body["success"] is True, body
        return str(body["token"])
