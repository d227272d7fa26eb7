"""Property: every read tool returns exactly the messages ``domain.visibility.can_see`` allows,
for random agents (ids, agent types, admin or not) and random messages (DESIGN §3)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastmcp import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_context.bootstrap import open_services
from shared_context.domain.models import Message, Principal, Visibility
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS
from shared_context.domain.visibility import can_see
from shared_context.mcp.server import build_mcp
from tests.conftest import make_settings
from tests.helpers import call, fail, login

AGENT_IDS = ["alice", "Alice", "bob", "b.o-b_1", "root", "x"]
AGENT_TYPES = ["claude", "gemini", "Claude", "ops"]
VISIBILITIES = [v.value for v in Visibility]


@dataclass(frozen=True)
class Agent:
    agent_id: str
    agent_type: str
    admin: bool

    def principal(self) -> Principal:
        return Principal(
            self.agent_id, self.agent_type, ALL_PERMISSIONS if self.admin else AGENT_CEILING
        )


agents_strategy = st.lists(
    st.builds(
        Agent,
        agent_id=st.sampled_from(AGENT_IDS),
        agent_type=st.sampled_from(AGENT_TYPES),
        admin=st.booleans(),
    ),
    min_size=1,
    max_size=5,
    unique=True,
)
posts_strategy = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from(VISIBILITIES)), min_size=0, max_size=12
)
changes_strategy = st.lists(
    st.tuples(st.integers(0, 11), st.sampled_from(VISIBILITIES)), min_size=0, max_size=3
)


async def read_all(
    client: Client, tool: str, token: str, sid: str, page: int, **extra: Any
) -> list[int]:
    ids: list[int] = []
    cursor: str | None = None
    for _ in range(50):  # bounded: at most 12 messages, page >= 1
        args: dict[str, Any] = {"session_id": sid, "limit": page, "auth_token": token, **extra}
        if cursor:
            args["cursor"] = cursor
        body = await call(client, tool, **args)
        ids.extend(m["id"] for m in body["messages"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
        assert cursor
    return ids


async def scenario(
    data_dir: Path,
    agents: list[Agent],
    posts: list[tuple[int, str]],
    changes: list[tuple[int, str]],
    page: int,
) -> None:
    async with (
        open_services(make_settings(data_dir)) as services,
        Client(build_mcp(services)) as client,
    ):
        tokens = [await login(client, a.agent_id, a.agent_type, admin=a.admin) for a in agents]
        sid = (await call(client, "create_session", purpose="prop", auth_token=tokens[0]))[
            "session_id"
        ]
        posted: dict[int, Message] = {}
        for index, visibility in posts:
            author = agents[index % len(agents)]
            token = tokens[index % len(agents)]
            args = {"session_id": sid, "content": f"m{len(posted)}", "visibility": visibility}
            if visibility == "admin_only" and not author.admin:
                denied = await fail(client, "add_message", auth_token=token, **args)
                assert denied["code"] == "PERMISSION_DENIED"
                continue
            body = await call(client, "add_message", auth_token=token, **args)
            posted[body["message_id"]] = Message(
                id=body["message_id"],
                session_id=sid,
                sender=author.agent_id,
                sender_type=author.agent_type,
                content=args["content"],
                visibility=Visibility(visibility),
                metadata={},
                parent_message_id=None,
                created_at=0.0,
            )
        # Some agents try to change visibility; the rule decides who may and what follows.
        ordered = sorted(posted)
        for pick, visibility in changes:
            if not ordered:
                break
            mid = ordered[pick % len(ordered)]
            actor_index = pick % len(agents)
            actor, token = agents[actor_index], tokens[actor_index]
            result = await client.call_tool(
                "set_message_visibility",
                {
                    "session_id": sid,
                    "message_id": mid,
                    "visibility": visibility,
                    "auth_token": token,
                },
                raise_on_error=False,
            )
            message = posted[mid]
            viewer = actor.principal()
            allowed = (
                can_see(viewer, message)
                and (message.sender == actor.agent_id or actor.admin)
                and (visibility != "admin_only" or actor.admin)
            )
            assert result.is_error is not allowed, (actor, message, visibility)
            if allowed:
                posted[mid] = Message(**{**_fields(message), "visibility": Visibility(visibility)})
            else:
                body = result.structured_content or {}
                expected = (
                    "MESSAGE_NOT_FOUND" if not can_see(viewer, message) else ("PERMISSION_DENIED")
                )
                assert body["code"] == expected

        for agent, token in zip(agents, tokens, strict=True):
            viewer = agent.principal()
            visible = sorted(i for i, m in posted.items() if can_see(viewer, m))
            without_admin = sorted(
                i for i, m in posted.items() if can_see(viewer, m, include_admin_only=False)
            )
            assert await read_all(client, "get_messages", token, sid, page) == visible
            assert (
                await read_all(client, "get_messages_advanced", token, sid, page) == without_admin
            )
            if agent.admin:
                assert (
                    await read_all(
                        client, "get_messages_advanced", token, sid, page, include_admin_only=True
                    )
                    == visible
                )
            else:
                denied = await fail(
                    client,
                    "get_messages_advanced",
                    session_id=sid,
                    include_admin_only=True,
                    auth_token=token,
                )
                assert denied["code"] == "PERMISSION_DENIED"
            for vis in VISIBILITIES:
                filtered = await read_all(
                    client, "get_messages_advanced", token, sid, 50, visibility=vis
                )
                assert filtered == [i for i in without_admin if posted[i].visibility == vis]
            for other in {a.agent_id for a in agents}:
                by_sender = await read_all(
                    client, "get_messages_advanced", token, sid, 50, sender=other
                )
                assert by_sender == [i for i in without_admin if posted[i].sender == other]
            session = await call(client, "get_session", session_id=sid, auth_token=token)
            assert session["message_count"] == len(visible)
            assert session["participants"] == sorted({posted[i].sender for i in visible})
            listed = await call(client, "list_sessions", auth_token=token)
            assert [s["message_count"] for s in listed["sessions"]] == [len(visible)]


def _fields(message: Message) -> dict[str, Any]:
    return {name: getattr(message, name) for name in Message.__slots__}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    agents=agents_strategy,
    posts=posts_strategy,
    changes=changes_strategy,
    page=st.integers(1, 5),
)
def test_every_read_tool_agrees_with_can_see(
    agents: list[Agent], posts: list[tuple[int, str]], changes: list[tuple[int, str]], page: int
) -> None:
    with tempfile.TemporaryDirectory(prefix="scs-prop-") as tmp:
        asyncio.run(scenario(Path(tmp) / "data", agents, posts, changes, page))
