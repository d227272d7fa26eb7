"""Bounds are defined once (``domain/bounds.py``); tool schemas publish exactly those numbers."""

from __future__ import annotations

from typing import Any

import pytest
from fastmcp import FastMCP

from shared_context.domain import bounds

LENGTHS = [
    ("authenticate_agent", "agent_id", bounds.AGENT_ID_MAX_CHARS),
    ("authenticate_agent", "agent_type", bounds.AGENT_TYPE_MAX_CHARS),
    ("add_message", "idempotency_key", bounds.IDEMPOTENCY_KEY_MAX_CHARS),
    ("create_session", "purpose", bounds.PURPOSE_MAX_CHARS),
    ("list_sessions", "created_by", bounds.AGENT_ID_MAX_CHARS),
    ("get_messages_advanced", "sender", bounds.AGENT_ID_MAX_CHARS),
    ("search_context", "query", bounds.QUERY_MAX_CHARS),
    ("search_by_sender", "sender", bounds.AGENT_ID_MAX_CHARS),
    ("set_memory", "key", bounds.MEMORY_KEY_MAX_CHARS),
    ("get_memory", "key", bounds.MEMORY_KEY_MAX_CHARS),
    ("delete_memory", "key", bounds.MEMORY_KEY_MAX_CHARS),
    ("list_memory", "prefix", bounds.MEMORY_KEY_MAX_CHARS),
    ("get_audit_log", "agent_id", bounds.AGENT_ID_MAX_CHARS),
    ("get_agent_activity_summary", "agent_id", bounds.AGENT_ID_MAX_CHARS),
    ("coordinate_session_work", "resource", bounds.RESOURCE_MAX_CHARS),
    ("coordinate_session_work", "lock_type", bounds.LOCK_TYPE_MAX_CHARS),
]
RANGES = [
    ("get_messages", "limit", bounds.MESSAGE_PAGE),
    ("get_messages_advanced", "limit", bounds.MESSAGE_PAGE),
    ("list_sessions", "limit", bounds.SESSION_PAGE),
    ("search_context", "limit", bounds.SEARCH_RESULTS),
    ("search_by_sender", "limit", bounds.SENDER_PAGE),
    ("search_by_timerange", "limit", bounds.TIMERANGE_PAGE),
    ("list_memory", "limit", bounds.MEMORY_PAGE),
    ("get_audit_log", "limit", bounds.AUDIT_PAGE),
    ("get_agent_activity_summary", "hours", bounds.SUMMARY_HOURS),
    ("get_active_agents", "within_seconds", bounds.PRESENCE_WITHIN_SECONDS),
    ("coordinate_session_work", "ttl_seconds", bounds.LOCK_TTL_SECONDS),
    ("wait_for_messages", "timeout_seconds", bounds.WAIT_TIMEOUT_SECONDS),
    ("wait_for_messages", "limit", bounds.WAIT_PAGE),
]


@pytest.fixture
async def schemas(server: FastMCP) -> dict[str, dict[str, Any]]:
    return {tool.name: tool.parameters for tool in await server.list_tools()}


def constraint(schema: dict[str, Any], tool: str, param: str, key: str) -> Any:
    prop = schema["properties"][param]
    for option in [prop, *prop.get("anyOf", [])]:
        if key in option:
            return option[key]
    raise AssertionError(f"{tool}.{param} publishes no {key}: {prop}")


@pytest.mark.parametrize(("tool", "param", "most"), LENGTHS, ids=lambda v: str(v))
def test_tool_string_bounds_are_the_domain_bounds(
    schemas: dict[str, dict[str, Any]], tool: str, param: str, most: int
) -> None:
    assert constraint(schemas[tool], tool, param, "maxLength") == most


@pytest.mark.parametrize(("tool", "param", "bound"), RANGES, ids=lambda v: str(v))
def test_tool_numeric_bounds_are_the_domain_bounds(
    schemas: dict[str, dict[str, Any]], tool: str, param: str, bound: tuple[int, int]
) -> None:
    assert constraint(schemas[tool], tool, param, "minimum") == bound[0]
    assert constraint(schemas[tool], tool, param, "maximum") == bound[1]


def test_the_services_enforce_the_same_numbers() -> None:
    from shared_context.domain import coordination, ids, memory
    from shared_context.services import audit_log, messages, waiting

    assert ids.AGENT_ID_RE.fullmatch("a" * bounds.AGENT_ID_MAX_CHARS)
    assert not ids.AGENT_ID_RE.fullmatch("a" * (bounds.AGENT_ID_MAX_CHARS + 1))
    assert ids.IDEMPOTENCY_KEY_RE.fullmatch("k" * bounds.IDEMPOTENCY_KEY_MAX_CHARS)
    assert not ids.IDEMPOTENCY_KEY_RE.fullmatch("k" * (bounds.IDEMPOTENCY_KEY_MAX_CHARS + 1))
    assert memory.KEY_MAX_CHARS == bounds.MEMORY_KEY_MAX_CHARS
    assert (coordination.TTL_MIN_SECONDS, coordination.TTL_MAX_SECONDS) == bounds.LOCK_TTL_SECONDS
    assert bounds.MESSAGE_PAGE[1] == messages.MAX_PAGE
    assert bounds.AUDIT_PAGE[1] == audit_log.LOG_MAX
    assert bounds.WAIT_PAGE[1] == waiting.MAX_WAIT_PAGE
