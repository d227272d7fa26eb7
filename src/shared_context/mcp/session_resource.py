"""The ``session://{session_id}`` resource and its subscriptions."""

from __future__ import annotations

import json

from fastmcp import FastMCP

from shared_context.domain.models import MessageQuery
from shared_context.mcp.errors import guarded_resource
from shared_context.mcp.identity import resource_reader
from shared_context.services.container import Services

RECENT_MESSAGES = 50


def register(mcp: FastMCP, app: Services) -> None:
    @mcp.resource(
        "session://{session_id}",
        name="session",
        description="A session and its most recent messages (up to 50, oldest first) as you "
        "may see them. Subscribe to be told when it changes.",
        mime_type="application/json",
    )
    @guarded_resource
    async def session_resource(session_id: str) -> str:
        return await read_session(app, session_id)

    if app.subscriptions is not None:  # built and wired by bootstrap
        app.subscriptions.install(mcp)


async def read_session(app: Services, session_id: str) -> str:
    """The session as the reader may see it: the session, participants, recent messages."""
    principal = await resource_reader(app)
    body = await app.sessions.get(principal, session_id)
    recent, more = await app.messages.read(
        principal,
        MessageQuery(session_id=session_id, limit=RECENT_MESSAGES, newest_first=True),
    )
    recent.reverse()
    return json.dumps(
        {
            "session": body.session.model_dump(mode="json"),
            "participants": body.participants,
            "messages": [m.to_dict() for m in recent],
            "has_older": more,
        },
        ensure_ascii=False,
    )
