"""Documentation that must not drift from the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client

from shared_context.config import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"
CORE_TOOLS = [
    "authenticate_agent",
    "refresh_token",
    "create_session",
    "get_session",
    "list_sessions",
    "close_session",
    "add_message",
    "get_messages",
    "get_messages_advanced",
    "set_message_visibility",
]


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    text = (DOCS / "configuration.md").read_text()
    row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), None)
    assert row is not None, f"docs/configuration.md has no row for setting {name!r}"
    assert f"`SCS_{name.upper()}`" in row


@pytest.mark.parametrize("tool", CORE_TOOLS)
def test_every_core_tool_is_documented(tool: str) -> None:
    text = (DOCS / "tools.md").read_text()
    assert f"### `{tool}`" in text, f"docs/tools.md has no section for {tool}"


async def test_every_registered_tool_is_documented(client: Client) -> None:
    """The list comes from the live registry, so a new tool cannot be left undocumented."""
    reference = (DOCS / "api-reference.md").read_text()
    written = "\n".join(
        path.read_text()
        for path in [DOCS.parent / "README.md", *DOCS.glob("*.md")]
        if path.name != "api-reference.md"
    )
    tools = [tool.name for tool in await client.list_tools()]
    assert len(tools) >= len(CORE_TOOLS)
    missing = [t for t in tools if f"## `{t}`" not in reference]
    assert not missing, f"docs/api-reference.md lacks {missing}: run `uv run scs docs`"
    unnamed = [t for t in tools if f"`{t}`" not in written]
    assert not unnamed, f"no hand-written doc (README.md, docs/*.md) mentions {unnamed}"
