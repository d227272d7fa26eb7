"""The multi-agent prompts render and name the tools they rely on."""

from __future__ import annotations

from fastmcp import Client


async def test_prompts_are_listed_and_reference_tools(client: Client) -> None:
    names = {p.name for p in await client.list_prompts()}
    assert {"setup_collaboration", "hand_off_work", "summarise_session"} <= names
    tools = {t.name for t in await client.list_tools()}

    setup = await client.get_prompt(
        "setup_collaboration", {"goal": "ship v2", "roles": "planner=a1, coder=a2,"}
    )
    text = setup.messages[0].content.text  # type: ignore[union-attr]
    assert "planner=a1" in text and "coder=a2" in text
    for tool in ("create_session", "coordinate_session_work", "wait_for_messages"):
        assert tool in text and tool in tools

    handoff = await client.get_prompt(
        "hand_off_work", {"session_id": "session_0123456789abcdef", "to_agent": "b", "summary": "s"}
    )
    assert "unlock" in handoff.messages[0].content.text  # type: ignore[union-attr]
    summary = await client.get_prompt(
        "summarise_session", {"session_id": "session_0123456789abcdef"}
    )
    body = summary.messages[0].content.text  # type: ignore[union-attr]
    assert "session://session_0123456789abcdef" in body and "get_active_agents" in body
