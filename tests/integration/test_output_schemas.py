"""Every tool publishes an outputSchema, and a representative call's structured result
validates against it (the MCP client also checks this on every successful call); its text
block holds the same value as JSON."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import mcp.types as mt
from fastmcp import Client

from tests.helpers import login


async def test_every_tool_has_an_output_schema_its_results_satisfy(client: Client) -> None:
    tools = {tool.name: tool for tool in await client.list_tools()}
    schemas: dict[str, dict[str, Any]] = {}
    for name, listed in tools.items():
        schema = listed.output_schema
        assert schema is not None, f"{name} has no outputSchema"
        assert schema.get("type") == "object", name
        assert "success" in schema.get("properties", {}), name
        jsonschema.Draft202012Validator.check_schema(schema)
        # Published without the default-open keyword (mcp/schemas.py `omit_default_open`).
        assert '"additionalProperties": true' not in json.dumps(schema), name
        schemas[name] = schema

    alice = await login(client, "alice")
    root = await login(client, "root", "ops", admin=True)
    checked: set[str] = set()

    async def run(tool: str, **args: Any) -> dict[str, Any]:
        result = await client.call_tool(tool, args, raise_on_error=False)
        assert not result.is_error, (tool, result.structured_content)
        body = result.structured_content
        assert body is not None and body["success"] is True
        jsonschema.validate(body, schemas[tool])
        # The text block carries the same value, for clients that read text only.
        assert len(result.content) == 1 and isinstance(result.content[0], mt.TextContent)
        assert json.loads(result.content[0].text) == body, tool
        checked.add(tool)
        return body

    await run("authenticate_agent", agent_id="bob", api_key="test-agent-key-0123456789abcdef")
    sid = (await run("create_session", purpose="schemas", auth_token=alice))["session_id"]
    await run("get_session", session_id=sid, auth_token=alice)
    await run("list_sessions", auth_token=alice)
    first = await run(
        "add_message", session_id=sid, content="hello schema", metadata={"k": "v"}, auth_token=alice
    )
    await run(
        "add_message",
        session_id=sid,
        content="reply",
        parent_message_id=first["message_id"],
        auth_token=alice,
    )
    await run("get_messages", session_id=sid, auth_token=alice)
    await run("get_messages_advanced", session_id=sid, sender="alice", auth_token=alice)
    await run(
        "set_message_visibility",
        session_id=sid,
        message_id=first["message_id"],
        visibility="private",
        auth_token=alice,
    )
    await run("search_context", session_id=sid, query="hello", auth_token=alice)
    await run("search_by_sender", session_id=sid, sender="alice", auth_token=alice)
    await run(
        "search_by_timerange",
        session_id=sid,
        start_time="2020-01-01T00:00:00Z",
        end_time="2100-01-01T00:00:00Z",
        auth_token=alice,
    )
    await run("set_memory", key="plan", value={"step": 1}, expires_in=60, auth_token=alice)
    await run("set_memory", key="note", value="in session", session_id=sid, auth_token=alice)
    await run("get_memory", key="plan", auth_token=alice)
    await run("list_memory", auth_token=alice)
    await run("delete_memory", key="plan", auth_token=alice)
    await run("register_agent_presence", status="busy", session_id=sid, auth_token=alice)
    await run("get_active_agents", session_id=sid, auth_token=alice)
    await run("coordinate_session_work", session_id=sid, action="lock", auth_token=alice)
    await run("coordinate_session_work", session_id=sid, action="status", auth_token=alice)
    await run("wait_for_messages", session_id=sid, after_id=0, timeout_seconds=0, auth_token=alice)
    await run("close_session", session_id=sid, auth_token=alice)
    await run("get_audit_log", auth_token=root)
    await run("get_agent_activity_summary", auth_token=root)
    await run("get_performance_metrics", auth_token=root)
    for fmt in ("json", "markdown", "openapi"):
        await run("generate_api_documentation", format=fmt, auth_token=alice)
    await run("refresh_token", auth_token=alice)
    assert checked == set(tools), f"no representative call for {set(tools) - checked}"
