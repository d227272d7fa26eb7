"""MCP prompts for common multi-agent patterns, written against the server's own tools.

Prompts only produce text: they read nothing and need no identity, so they leak nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from pydantic import Field

from shared_context.services.container import Services

Text = Annotated[str, Field(min_length=1, max_length=2000)]
SessionRef = Annotated[str, Field(min_length=1, max_length=64)]


def register(mcp: FastMCP, app: Services) -> None:
    del app  # prompts are static text; kept for the common register(mcp, app) shape

    @mcp.prompt(
        name="setup_collaboration",
        title="Set up a collaboration session",
        description="Open a shared session for a goal and assign roles to agents.",
    )
    def setup_collaboration(
        goal: Text,
        roles: Annotated[
            str,
            Field(
                description="Comma-separated role=agent_id pairs, e.g. "
                "'planner=claude-main, coder=codex-1, reviewer=gemini-1'.",
                min_length=1,
                max_length=2000,
            ),
        ],
    ) -> str:
        assignments = [part.strip() for part in roles.split(",") if part.strip()]
        lines = "\n".join(f"   - {item}" for item in assignments[:50])
        return (
            f"You are coordinating a team of agents working on: {goal}\n\n"
            "1. If you have no token yet, call authenticate_agent with your agent_id, "
            "agent_type and API key; pass the token as auth_token on every call.\n"
            f"2. Call create_session with purpose={goal!r}; note the session_id.\n"
            "3. Call register_agent_presence(status='active', session_id=<session_id>).\n"
            "4. Post one public add_message that states the goal and these roles:\n"
            f"{lines}\n"
            "   and asks each agent to confirm with a reply (parent_message_id = your post).\n"
            "5. Before anyone edits a shared artefact, they take a lease with "
            "coordinate_session_work(session_id, action='lock', resource=<path>, "
            "ttl_seconds=300) and renew it while working; a SESSION_LOCKED answer names the "
            "holder and when the lease expires.\n"
            "6. Instead of polling, wait with wait_for_messages(session_id, after_id=<last id "
            "seen>, timeout_seconds=60), or subscribe to the session://<session_id> resource.\n"
            "7. Use get_active_agents(session_id=<session_id>) to see who is around."
        )

    @mcp.prompt(
        name="hand_off_work",
        title="Hand off work",
        description="Hand your current work in a session over to another agent cleanly.",
    )
    def hand_off_work(session_id: SessionRef, to_agent: Text, summary: Text) -> str:
        return (
            f"Hand your work in session {session_id} over to {to_agent}.\n\n"
            "1. Post a public add_message addressed to "
            f"{to_agent} with: what is done, what is left, open questions, and where the "
            f"artefacts are. Summary to expand on: {summary}\n"
            f"2. Check coordinate_session_work(session_id={session_id!r}, action='status') "
            "and for every resource you hold; unlock each lease you hold (action='unlock') so "
            f"{to_agent} can take it.\n"
            "3. Record anything only you need later with set_memory if available; keep "
            "private notes private (visibility='private').\n"
            "4. Call register_agent_presence(status='idle') (or 'offline' if you are leaving).\n"
            f"5. Optionally wait_for_messages(session_id={session_id!r}, after_id=<your "
            f"hand-off message id>) for {to_agent} to acknowledge."
        )

    @mcp.prompt(
        name="summarise_session",
        title="Summarise a session",
        description="Summarise a session's state: goal, progress, decisions, locks, who is active.",
    )
    def summarise_session(session_id: SessionRef) -> str:
        return (
            f"Summarise the state of session {session_id} for an agent joining now.\n\n"
            f"1. Read the session://{session_id} resource (or call get_session and "
            "get_messages, paging with next_cursor if has_more).\n"
            f"2. Call get_active_agents(session_id={session_id!r}) and "
            f"coordinate_session_work(session_id={session_id!r}, action='status').\n"
            "3. Write a short summary with: the purpose; decisions made; work in progress "
            "and who owns it (including held locks and when they expire); open questions; "
            "next steps. Only use messages you were able to read; never guess at content "
            "you cannot see.\n"
            "4. Post the summary with add_message (visibility='public') if it helps the "
            "team, and remember the last message id to continue with wait_for_messages."
        )
