"""Property: what the dashboard's live stream delivers to a viewer equals what get_messages
returns to the same identity (same token), for random agents, viewers, visibilities, replies
and for messages posted both before the stream opened and while it is open.

One real HTTP server (uvicorn on 127.0.0.1, the full app of ``build_http_app``) serves every
example, each in a new session; the stream is read with httpx, the messages are posted and
read with the MCP tools."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastmcp import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_context.bootstrap import open_services
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.e2e.dashboard_support import frames, http_login
from tests.e2e.live import serve_http
from tests.helpers import ADMIN_KEY, AGENT_KEY, call, login

VISIBILITIES = ["public", "private", "agent_only", "admin_only"]
STREAM_SECONDS = 15.0


@dataclass(frozen=True)
class Agent:
    agent_id: str
    agent_type: str
    admin: bool


agents_strategy = st.lists(
    st.builds(
        Agent,
        agent_id=st.sampled_from(["alice", "bob", "carol", "Root"]),
        agent_type=st.sampled_from(["claude", "gemini"]),
        admin=st.booleans(),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda a: a.agent_id,
)
# (author index, visibility, reply to an earlier public message?, before the stream opens?)
posts_strategy = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(VISIBILITIES), st.booleans(), st.booleans()),
    max_size=10,
)


class World:
    """One server for all examples, on a loop that lives as long as the test."""

    def __init__(self, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self._stack: list[Any] = []
        self.data_dir = data_dir
        self.services: Services
        self.base = ""
        self.mcp: Client[Any]

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def open(self) -> None:
        services_cm = open_services(make_settings(self.data_dir))
        self.services = await services_cm.__aenter__()
        self._stack.append(services_cm)
        http_cm = serve_http(self.services)
        self.base = (await http_cm.__aenter__()).removesuffix("/mcp")
        self._stack.append(http_cm)
        mcp_cm = Client(build_mcp(self.services))
        self.mcp = await mcp_cm.__aenter__()  # type: ignore[no-untyped-call]
        self._stack.append(mcp_cm)

    async def close(self) -> None:
        while self._stack:
            await self._stack.pop().__aexit__(None, None, None)
        current = asyncio.current_task()
        leftover = [t for t in asyncio.all_tasks() if t is not current]
        for task in leftover:  # e.g. sse-starlette's per-loop shutdown watcher
            task.cancel()
        await asyncio.gather(*leftover, return_exceptions=True)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with tempfile.TemporaryDirectory() as tmp:
        built = World(Path(tmp) / "data")
        built.run(built.open())
        try:
            yield built
        finally:
            built.run(built.close())
            built.loop.close()


async def get_messages(mcp: Client[Any], token: str, sid: str) -> list[tuple[int, str]]:
    seen: list[tuple[int, str]] = []
    cursor: str | None = None
    for _ in range(20):  # bounded: at most 12 messages per session
        args: dict[str, Any] = {"session_id": sid, "limit": 5, "auth_token": token}
        if cursor:
            args["cursor"] = cursor
        body = await call(mcp, "get_messages", **args)
        seen.extend((m["id"], m["content"]) for m in body["messages"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen
    raise AssertionError("get_messages did not finish paging")


async def scenario(world: World, agents: list[Agent], viewer_index: int, posts: list[Any]) -> None:
    mcp = world.mcp
    tokens = [await login(mcp, a.agent_id, a.agent_type, admin=a.admin) for a in agents]
    viewer = agents[viewer_index % len(agents)]
    sid = (await call(mcp, "create_session", purpose="stream prop", auth_token=tokens[0]))[
        "session_id"
    ]
    public: list[int] = []

    async def add(index: int, visibility: str, reply: bool, n: int) -> None:
        author = index % len(agents)
        if visibility == "admin_only" and not agents[author].admin:
            visibility = "public"
        args: dict[str, Any] = {"session_id": sid, "content": f"m{n} <b>&amp;</b>"}
        args |= {"visibility": visibility, "auth_token": tokens[author]}
        if reply and public:
            args["parent_message_id"] = public[-1]
        body = await call(mcp, "add_message", **args)
        if visibility == "public":
            public.append(body["message_id"])

    before = [p for p in posts if p[3]]
    during = [p for p in posts if not p[3]]
    for n, (index, visibility, reply, _) in enumerate(before):
        await add(index, visibility, reply, n)
    async with httpx.AsyncClient(base_url=world.base, timeout=STREAM_SECONDS) as browser:
        cookie = await http_login(
            browser,
            ADMIN_KEY if viewer.admin else AGENT_KEY,
            viewer.agent_id,
            viewer.agent_type,
            admin=viewer.admin,
        )
        async with browser.stream("GET", f"/ui/sessions/{sid}/stream?after=0") as live:
            assert live.status_code == 200
            for n, (index, visibility, reply, _) in enumerate(during, start=len(before)):
                await add(index, visibility, reply, n)
            end = await call(
                mcp, "add_message", session_id=sid, content="END", auth_token=tokens[0]
            )
            streamed: list[tuple[int, str]] = []
            async for frame in frames(live, time.monotonic() + STREAM_SECONDS):
                if frame.event == "message":
                    streamed.extend(frame.messages())
                if any(mid == end["message_id"] for mid, _ in streamed):
                    break
            else:
                raise AssertionError(f"the stream never delivered the END message: {streamed}")
    expected = await get_messages(mcp, cookie, sid)  # the dashboard's own token
    assert streamed == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=agents_strategy, viewer_index=st.integers(0, 3), posts=posts_strategy)
def test_stream_delivers_exactly_what_get_messages_returns(
    world: World, agents: list[Agent], viewer_index: int, posts: list[Any]
) -> None:
    world.run(scenario(world, agents, viewer_index, posts))
