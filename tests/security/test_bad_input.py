"""Hostile and malformed input: a clear INVALID_INPUT / SESSION_NOT_FOUND, no crash, nothing
partial stored (SPEC §3)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from fastmcp import Client
from mcp import types as mt
from mcp.shared.exceptions import MCPError

from shared_context.domain.errors import SharedContextError
from shared_context.services.container import Services
from tests.helpers import call, fail, login

SQL_STRINGS = [
    "'; DROP TABLE messages; --",
    "1 OR 1=1",
    'Robert"); DELETE FROM sessions WHERE ("1"="1',
    "%_\\ LIKE '%'",
    "/* comment */ SELECT * FROM api_keys",
]
ODD_STRINGS = [
    "nul\x00byte",
    "emoji 😀🧪👩‍👩‍👧‍👦",
    "rtl \u202e override",
    "zero\u200bwidth",
    "tab\tnewline\nreturn\r",
    "\U0010ffff max code point",
    "  leading and trailing  ",
]


async def counts(services: Services) -> tuple[int, int]:
    def fn(conn: sqlite3.Connection) -> tuple[int, int]:
        sessions = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        return int(sessions), int(messages)

    result: tuple[int, int] = await services.store.read(fn)  # type: ignore[attr-defined]
    return result


@pytest.fixture
async def setup(client: Client) -> tuple[str, str]:
    token = await login(client, "alice", "claude")
    sid = (await call(client, "create_session", purpose="inputs", auth_token=token))["session_id"]
    await call(client, "add_message", session_id=sid, content="first", auth_token=token)
    return token, sid


def nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    current = root
    for _ in range(depth - 1):
        current["a"] = {}
        current = current["a"]
    return root


BAD_ADD: list[Any] = [
    pytest.param({"content": ""}, "INVALID_INPUT", id="empty-content"),
    pytest.param({"content": "   \n\t"}, "INVALID_INPUT", id="blank-content"),
    pytest.param({"content": "x" * 10_001}, "INVALID_INPUT", id="content-10001"),
    pytest.param({"content": "x" * (20 * 1024 * 1024)}, "INVALID_INPUT", id="content-20MB"),
    pytest.param({"content": "lone \ud800 surrogate"}, "INVALID_INPUT", id="lone-surrogate"),
    pytest.param({"visibility": "secret"}, "INVALID_INPUT", id="visibility"),
    pytest.param({"visibility": "PUBLIC"}, "INVALID_INPUT", id="visibility-case"),
    pytest.param({"metadata": {f"k{i}": i for i in range(51)}}, "INVALID_INPUT", id="meta-51"),
    pytest.param({"metadata": {"big": "x" * 10_000}}, "INVALID_INPUT", id="meta-bytes"),
    pytest.param({"metadata": nested(100)}, "INVALID_INPUT", id="meta-nested-100"),
    pytest.param({"metadata": {"k": "\udfff"}}, "INVALID_INPUT", id="meta-surrogate"),
    pytest.param({"metadata": [1, 2]}, "INVALID_INPUT", id="meta-list"),
    pytest.param({"metadata": "{}"}, "INVALID_INPUT", id="meta-string"),
    pytest.param({"parent_message_id": 0}, "INVALID_INPUT", id="parent-0"),
    pytest.param({"parent_message_id": -1}, "INVALID_INPUT", id="parent-negative"),
    pytest.param({"parent_message_id": 10**30}, "INVALID_INPUT", id="parent-huge"),
    pytest.param({"parent_message_id": 999_999}, "MESSAGE_NOT_FOUND", id="parent-missing"),
    pytest.param({"idempotency_key": ""}, "INVALID_INPUT", id="idem-empty"),
    pytest.param({"idempotency_key": "has space"}, "INVALID_INPUT", id="idem-space"),
    pytest.param({"idempotency_key": "k" * 129}, "INVALID_INPUT", id="idem-long"),
    pytest.param({"session_id": "session_0000000000000000"}, "SESSION_NOT_FOUND", id="unknown"),
    pytest.param({"session_id": "session_zz"}, "SESSION_NOT_FOUND", id="malformed"),
    pytest.param({"session_id": "'; DROP TABLE x;--"}, "SESSION_NOT_FOUND", id="malformed-sql"),
    pytest.param({"session_id": ""}, "SESSION_NOT_FOUND", id="empty-session"),
    pytest.param({"session_id": "s" * 65}, "INVALID_INPUT", id="session-id-too-long"),
    pytest.param({"session_id": 12}, "INVALID_INPUT", id="session-id-number"),
]


@pytest.mark.parametrize(("override", "code"), BAD_ADD)
async def test_bad_add_message(
    client: Client,
    services: Services,
    setup: tuple[str, str],
    override: dict[str, Any],
    code: str,
) -> None:
    token, sid = setup
    before = await counts(services)
    args: dict[str, Any] = {"session_id": sid, "content": "ok", "auth_token": token}
    args.update(override)
    body = await fail(client, "add_message", **args)
    assert body["code"] == code, body
    assert len(body["message"]) < 500
    assert await counts(services) == before
    # The server is still up and the session still usable.
    await call(client, "add_message", session_id=sid, content="still fine", auth_token=token)


async def test_deep_metadata_refused_by_the_service(
    services: Services, setup: tuple[str, str]
) -> None:
    # 1,000 levels cannot even be serialised by the MCP client; the service must refuse it
    # without recursion (iterative depth check), as it would arrive over a raw transport.
    token, sid = setup
    principal = await services.auth.resolve(token)
    before = await counts(services)
    for depth in (33, 1_000, 100_000):
        with pytest.raises(SharedContextError) as caught:
            await services.messages.add(principal, sid, "x", "public", nested(depth))
        assert caught.value.code == "INVALID_INPUT"
    with pytest.raises(SharedContextError) as caught:
        await services.sessions.create(principal, "p", nested(1_000))
    assert caught.value.code == "INVALID_INPUT"
    assert await counts(services) == before


async def test_metadata_at_the_limits_is_accepted(client: Client, setup: tuple[str, str]) -> None:
    token, sid = setup
    for metadata in (
        {f"k{i}": i for i in range(50)},
        {"big": "x" * 9_980},
        nested(32),
    ):
        await call(
            client, "add_message", session_id=sid, content="x", metadata=metadata, auth_token=token
        )
    await call(client, "add_message", session_id=sid, content="x" * 10_000, auth_token=token)


BAD_READ: list[Any] = [
    pytest.param("get_messages", {"limit": -1}, "INVALID_INPUT", id="limit-negative"),
    pytest.param("get_messages", {"limit": 0}, "INVALID_INPUT", id="limit-0"),
    pytest.param("get_messages", {"limit": 10**9}, "INVALID_INPUT", id="limit-1e9"),
    pytest.param("get_messages", {"limit": 1001}, "INVALID_INPUT", id="limit-1001"),
    pytest.param("get_messages", {"offset": -1}, "INVALID_INPUT", id="offset-negative"),
    pytest.param("get_messages", {"since_id": -1}, "INVALID_INPUT", id="since-negative"),
    pytest.param("get_messages", {"cursor": "nonsense"}, "INVALID_INPUT", id="cursor"),
    pytest.param("get_messages", {"cursor": "c-1"}, "INVALID_INPUT", id="cursor-negative"),
    pytest.param("get_messages", {"cursor": "c²"}, "INVALID_INPUT", id="cursor-superscript"),
    pytest.param(
        "get_messages", {"cursor": "c9999999999999999999"}, "INVALID_INPUT", id="cursor-overflow"
    ),
    pytest.param("get_messages", {"cursor": "c" + "1" * 80}, "INVALID_INPUT", id="cursor-long"),
    pytest.param(
        "get_messages",
        {"session_id": "session_0000000000000000"},
        "SESSION_NOT_FOUND",
        id="unknown-session",
    ),
    pytest.param(
        "get_messages", {"session_id": "SESSION_ABC"}, "SESSION_NOT_FOUND", id="malformed"
    ),
    pytest.param("get_messages_advanced", {"limit": 0}, "INVALID_INPUT", id="adv-limit"),
    pytest.param("get_messages_advanced", {"since": "yesterday"}, "INVALID_INPUT", id="since"),
    pytest.param("get_messages_advanced", {"until": "2026-13-01"}, "INVALID_INPUT", id="until"),
    pytest.param("get_messages_advanced", {"sender": "no spaces"}, "INVALID_INPUT", id="sender"),
    pytest.param("get_messages_advanced", {"visibility": "x"}, "INVALID_INPUT", id="visibility"),
    pytest.param("get_messages_advanced", {"cursor": "c" + "9" * 19}, "INVALID_INPUT", id="cur"),
    pytest.param(
        "get_messages_advanced", {"parent_message_id": 0}, "INVALID_INPUT", id="adv-parent"
    ),
    pytest.param("get_session", {"session_id": "nope"}, "SESSION_NOT_FOUND", id="get-session"),
    pytest.param("close_session", {"session_id": "nope"}, "SESSION_NOT_FOUND", id="close"),
    pytest.param(
        "set_message_visibility",
        {"message_id": 999_999, "visibility": "public"},
        "MESSAGE_NOT_FOUND",
        id="visibility-missing-message",
    ),
    pytest.param(
        "set_message_visibility",
        {"message_id": 1, "visibility": "everyone"},
        "INVALID_INPUT",
        id="visibility-bad-value",
    ),
    pytest.param(
        "set_message_visibility",
        {"message_id": -3, "visibility": "public"},
        "INVALID_INPUT",
        id="visibility-bad-id",
    ),
]


@pytest.mark.parametrize(("tool", "override", "code"), BAD_READ)
async def test_bad_reads_and_updates(
    client: Client,
    services: Services,
    setup: tuple[str, str],
    tool: str,
    override: dict[str, Any],
    code: str,
) -> None:
    token, sid = setup
    before = await counts(services)
    args: dict[str, Any] = {"session_id": sid, "auth_token": token}
    args.update(override)
    body = await fail(client, tool, **args)
    assert body["code"] == code, body
    assert await counts(services) == before


BAD_SESSIONS: list[Any] = [
    pytest.param("create_session", {"purpose": ""}, id="purpose-empty"),
    pytest.param("create_session", {"purpose": "x" * 1001}, id="purpose-1001"),
    pytest.param("create_session", {"purpose": "x" * 6000}, id="purpose-6000"),
    pytest.param("create_session", {"purpose": "p", "metadata": nested(40)}, id="meta-deep"),
    pytest.param(
        "create_session", {"purpose": "p", "metadata": {str(i): i for i in range(51)}}, id="keys"
    ),
    pytest.param("list_sessions", {"limit": 0}, id="list-limit-0"),
    pytest.param("list_sessions", {"limit": -1}, id="list-limit-negative"),
    pytest.param("list_sessions", {"limit": 10**9}, id="list-limit-huge"),
    pytest.param("list_sessions", {"cursor": "c99999999999999999999"}, id="list-cursor-overflow"),
    pytest.param("list_sessions", {"cursor": "zzz"}, id="list-cursor"),
    pytest.param("list_sessions", {"created_by": "not valid!"}, id="list-created-by"),
]


@pytest.mark.parametrize(("tool", "args"), BAD_SESSIONS)
async def test_bad_session_arguments(
    client: Client,
    services: Services,
    setup: tuple[str, str],
    tool: str,
    args: dict[str, Any],
) -> None:
    token, _ = setup
    before = await counts(services)
    body = await fail(client, tool, auth_token=token, **args)
    assert body["code"] == "INVALID_INPUT", body
    assert await counts(services) == before


@pytest.mark.parametrize("text", SQL_STRINGS + ODD_STRINGS)
async def test_odd_strings_are_stored_and_returned_verbatim(
    client: Client, setup: tuple[str, str], text: str
) -> None:
    token, _ = setup
    sid = (
        await call(client, "create_session", purpose=text, metadata={text: text}, auth_token=token)
    )["session_id"]
    await call(
        client,
        "add_message",
        session_id=sid,
        content=text,
        metadata={"note": text, text: [text]},
        idempotency_key="k-" + str(abs(hash(text))),
        auth_token=token,
    )
    session = await call(client, "get_session", session_id=sid, auth_token=token)
    assert session["purpose"] == text
    assert session["metadata"] == {text: text}
    messages = (await call(client, "get_messages", session_id=sid, auth_token=token))["messages"]
    assert [m["content"] for m in messages] == [text]
    assert messages[0]["metadata"] == {"note": text, text: [text]}


async def test_sql_strings_as_filters_match_nothing_and_break_nothing(
    client: Client, services: Services, setup: tuple[str, str]
) -> None:
    token, sid = setup
    before = await counts(services)
    for text in SQL_STRINGS:
        body = await client.call_tool(
            "get_messages_advanced",
            {"session_id": sid, "sender": text, "auth_token": token},
            raise_on_error=False,
        )
        assert body.is_error
        listed = await client.call_tool(
            "list_sessions", {"created_by": text, "auth_token": token}, raise_on_error=False
        )
        assert listed.is_error
    assert await counts(services) == before
    assert len((await call(client, "get_messages", session_id=sid, auth_token=token))["messages"])


async def test_unknown_tool_and_bad_argument_types(
    client: Client, setup: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    token, sid = setup
    with pytest.raises(MCPError) as unknown:  # a protocol error since SPEC §19
        await client.call_tool("drop_all_tables", {"auth_token": token})
    assert unknown.value.error.code == mt.INVALID_PARAMS
    assert "drop_all_tables" in unknown.value.error.message
    for tool, args in (
        ("list_sessions", {"bogus": 1}),
        ("get_messages", {}),
        ("get_messages", {"session_id": sid, "limit": "abc"}),
        ("get_messages", {"session_id": sid, "limit": 1.5}),
        ("add_message", {"session_id": sid, "content": ["not", "text"]}),
        ("add_message", {"session_id": sid, "content": "x", "parent_message_id": "one"}),
        ("create_session", {"purpose": None}),
    ):
        body = await fail(client, tool, auth_token=token, **args)
        assert body["code"] == "INVALID_INPUT", (tool, args, body)
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]
