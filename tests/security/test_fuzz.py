"""Fuzzing (SPEC §19): arguments generated from every tool's own ``inputSchema`` (Hypothesis,
``schema_strategies``: hypothesis-jsonschema's equivalent) plus arbitrary JSON, and raw
JSON-RPC over real Streamable HTTP.

Asserted for every call: no HTTP 5xx, no JSON-RPC -32603 (internal error), no tool result
with INTERNAL_ERROR, and no partial write (a failed call changes no row of sessions, messages,
memory or locks). Bounded in time: a fixed number of examples per tool, no shrinking
database, the whole module well under 60 s on a quiet machine.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import Any

import httpx2
import pytest
from fastmcp import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp.shared.exceptions import MCPError

from shared_context.services.container import Services
from tests.e2e.live import serve_http, token_for
from tests.helpers import call, login
from tests.security import rawmcp
from tests.security.schema_strategies import from_schema

INTERNAL = -32603
EXAMPLES_PER_TOOL = 12
RAW_EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES_PER_TOOL,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
TABLES = ("sessions", "messages", "agent_memory", "session_locks")


async def rows(services: Services) -> tuple[int, ...]:
    def fn(conn: sqlite3.Connection) -> tuple[int, ...]:
        return tuple(int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES)

    result: tuple[int, ...] = await services.store.read(fn)  # type: ignore[attr-defined]
    return result


async def tool_schemas(client: Client) -> dict[str, dict[str, Any]]:
    return {t.name: t.input_schema for t in await client.list_tools()}


def check_result(tool: str, args: dict[str, Any], result: Any) -> bool:
    """True when the call succeeded; fails the test on an internal error."""
    body = result.structured_content or {}
    if result.is_error:
        assert body.get("code") != "INTERNAL_ERROR", (tool, args, body)
        return False
    return True


@pytest.fixture
async def fuzz_setup(client: Client) -> dict[str, str]:
    admin = await login(client, "fuzz-admin", admin=True)
    agent = await login(client, "fuzz-agent")
    sid = (await call(client, "create_session", purpose="fuzz", auth_token=admin))["session_id"]
    await call(client, "add_message", session_id=sid, content="seed", auth_token=admin)
    return {"admin": admin, "agent": agent, "session": sid}


def draw_cases(
    strategy: st.SearchStrategy[Any],
    identities: st.SearchStrategy[str | None],
    sessions: st.SearchStrategy[str],
) -> list[tuple[dict[str, Any], str | None, str, Any]]:
    drawn: list[tuple[dict[str, Any], str | None, str, Any]] = []

    @FUZZ
    @given(args=strategy, token=identities, sid=sessions, raw=json_values)
    def collect(args: dict[str, Any], token: str | None, sid: str, raw: Any) -> None:
        drawn.append((args, token, sid, raw))

    collect()
    return drawn


async def fuzz_one(client: Client, services: Services, tool: str, args: dict[str, Any]) -> str:
    before = await rows(services)
    try:
        result = await client.call_tool(tool, args, raise_on_error=False)
    except MCPError as exc:
        assert exc.code != INTERNAL, (tool, args, exc.error)
        assert await rows(services) == before, (tool, args, "protocol error left a write")
        return "protocol-error"
    if not check_result(tool, args, result):
        assert await rows(services) == before, (tool, args, "failed call left a write")
        return "refused"
    return "ok"


@pytest.mark.timeout(300)
async def test_every_tool_survives_arguments_from_its_own_schema(
    client: Client, services: Services, fuzz_setup: dict[str, str]
) -> None:
    schemas = await tool_schemas(client)
    assert len(schemas) > 10
    identities = st.sampled_from([fuzz_setup["admin"], fuzz_setup["agent"], None, "garbage"])
    sessions = st.sampled_from([fuzz_setup["session"], "session_0000000000000000"])
    outcomes: Counter[str] = Counter()
    succeeded: set[str] = set()
    for tool, schema in sorted(schemas.items()):
        if tool == "wait_for_messages":  # bounded waits would dominate the time budget
            schema = json.loads(json.dumps(schema))
            schema.setdefault("properties", {})["timeout_seconds"] = {"const": 0}
        strategy = from_schema(schema)

        drawn = draw_cases(
            strategy, identities, sessions
        )  # hypothesis draws the cases; they run below, on the test's event loop
        for args, token, sid, raw in drawn:
            if "auth_token" in schema.get("properties", {}):
                args["auth_token"] = token
            if "session_id" in args and isinstance(args["session_id"], str):
                args["session_id"] = sid
            outcome = await fuzz_one(client, services, tool, args)
            outcomes[outcome] += 1
            if outcome == "ok":
                succeeded.add(tool)
            # And arbitrary JSON for one argument, whatever its declared type.
            props = sorted(schema.get("properties", {}))
            if props:
                mangled = dict(args)
                mangled[props[len(str(raw)) % len(props)]] = raw
                outcomes[await fuzz_one(client, services, tool, mangled)] += 1
    # The cases reached the tools' logic, not only argument validation.
    assert outcomes["ok"] > 50 and outcomes["refused"] > 50, outcomes
    assert len(succeeded) >= len(schemas) // 2, sorted(set(schemas) - succeeded)


@pytest.mark.timeout(300)
async def test_raw_jsonrpc_never_answers_5xx_or_internal_error(services: Services) -> None:
    token = await token_for(services, "raw-fuzzer")
    methods = st.sampled_from(
        [
            "initialize",
            "ping",
            "tools/list",
            "tools/call",
            "resources/list",
            "resources/read",
            "resources/templates/list",
            "resources/subscribe",
            "resources/unsubscribe",
            "prompts/list",
            "prompts/get",
            "completion/complete",
            "logging/setLevel",
            "subscriptions/listen",
            "server/discover",
        ]
    ) | st.text(max_size=30)
    async with serve_http(services) as url, httpx2.AsyncClient(timeout=30) as http:
        _, session = await rawmcp.initialize(http, url, token)
        assert session

        drawn: list[tuple[str, Any, Any, bool, str]] = []

        @settings(
            max_examples=RAW_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            method=methods,
            params=json_values,
            ident=json_values,
            with_session=st.booleans(),
            kind=st.sampled_from(["rpc", "batch", "junk"]),
        )
        def collect(method: str, params: Any, ident: Any, with_session: bool, kind: str) -> None:
            drawn.append((method, params, ident, with_session, kind))

        collect()
        for method, params, ident, with_session, body_kind in drawn:
            message: Any = {"jsonrpc": "2.0", "id": ident, "method": method, "params": params}
            if body_kind == "batch":
                message = [message, {"jsonrpc": "2.0", "method": method}]
            content = (
                json.dumps(message).encode()
                if body_kind != "junk"
                else json.dumps(params).encode()[:200] + b"\xff{"
            )
            response = await http.post(
                url,
                content=content,
                headers=rawmcp.headers(token, session if with_session else None),
            )
            assert response.status_code < 500, (method, params, response.text[:300])
            body = rawmcp.parse(response) if response.content else None
            if isinstance(body, dict) and "error" in body:
                assert body["error"].get("code") != INTERNAL, (method, params, body)
