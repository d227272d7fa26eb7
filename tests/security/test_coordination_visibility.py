"""Waits, the session resource and subscription notifications pass exactly what
``domain.visibility.can_see`` allows, for random agents and messages."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from shared_context.bootstrap import build_subscription_hub, open_services
from shared_context.domain.models import Message, MessageQuery, Principal, visibility_name
from shared_context.domain.permissions import Permission
from shared_context.domain.visibility import can_see
from shared_context.events.bus import Event, EventKind
from shared_context.mcp.session_resource import read_session
from shared_context.mcp.subscriptions import Subscriber
from tests.conftest import make_settings
from tests.helpers import ADMIN_KEY

RW = frozenset({Permission.READ, Permission.WRITE})
AGENTS = [
    Principal("ann", "claude", RW),
    Principal("ben", "claude", RW),
    Principal("gus", "gemini", RW),
    Principal("ops", "ops", frozenset(Permission)),
]
VIS = ["public", "private", "agent_only", "admin_only"]

posts = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(VIS), st.one_of(st.none(), st.sampled_from(VIS))),
    min_size=1,
    max_size=25,
)


async def run_script(data_dir: Path, script: list[tuple[int, str, str | None]]) -> None:
    async with open_services(make_settings(data_dir)) as app:
        sid = (await app.sessions.create(AGENTS[3], "prop", None)).session_id
        uri = f"session://{sid}"
        hub = build_subscription_hub(app)
        notified: dict[str, int] = {a.agent_id: 0 for a in AGENTS}
        for agent in AGENTS:
            hub.add(
                agent.agent_id,
                Subscriber(agent, {uri}, partial(_bump_for, notified, agent.agent_id), "x"),
            )
        events: list[Event] = []
        app.bus.subscribe(events.append)
        for who, vis, revis in script:
            if vis == "admin_only" and who != 3:
                vis = "public"
            body = await app.messages.add(AGENTS[who], sid, f"from {who}", visibility_name(vis))
            if revis is not None and (revis != "admin_only" or who == 3):
                await app.messages.set_visibility(
                    AGENTS[who], sid, body.message_id, visibility_name(revis)
                )

        # Every message is visible to its sender, so the union over agents is all of them.
        all_messages = {
            m.id: m
            for agent in AGENTS
            for m in await app.store.get_messages(agent, MessageQuery(session_id=sid, limit=1000))
        }
        for viewer in AGENTS:
            allowed = [mid for mid, m in sorted(all_messages.items()) if can_see(viewer, m)]
            waited = await app.coordination.waits.wait(viewer, sid, 0, 0, limit=1000)
            assert [m.id for m in waited.messages] == allowed
            token = (
                await app.auth.authenticate(
                    viewer.agent_id,
                    viewer.agent_type,
                    ADMIN_KEY,
                    sorted(p.value for p in viewer.permissions),
                )
            ).token
            app.settings.agent_token = SecretStr(token)
            shown = json.loads(await read_session(app, sid))
            assert [m["id"] for m in shown["messages"]] == allowed[-50:]
            # Notifications: one per change the viewer could see (before or after).
            expected = 0
            for event in events:
                message = event.data.get("message")
                if event.kind not in (EventKind.MESSAGE_ADDED, EventKind.VISIBILITY_CHANGED):
                    continue
                assert isinstance(message, Message)
                before = event.data.get("old_visibility")
                visible = can_see(viewer, message)
                if before is not None and before != message.visibility.value:
                    from dataclasses import replace

                    from shared_context.domain.models import Visibility

                    visible = visible or can_see(
                        viewer, replace(message, visibility=Visibility(before))
                    )
                expected += visible
            assert notified[viewer.agent_id] == expected


def _bump_for(counts: dict[str, int], agent: str, _uri: str) -> None:
    _bump(counts, agent)


def _bump(counts: dict[str, int], agent: str) -> None:
    counts[agent] += 1


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=posts)
def test_waits_resources_and_notifications_follow_visibility(tmp_path_factory, script) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(run_script(tmp_path_factory.mktemp("coord"), script))
