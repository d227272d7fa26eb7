"""The audit log through MCP tools: a scripted workflow leaves exactly the expected events;
non-admins only ever see their own; the activity summary counts match."""

from __future__ import annotations

from typing import Any

import pytest
from fastmcp import Client

from shared_context.services.container import Services
from tests.helpers import call, fail, login
from tests.memory_support import audit_rows

SECRET_VALUE = "value-that-must-never-reach-the-audit-log"


async def workflow(client: Client) -> dict[str, Any]:
    alice = await login(client, "alice")
    bob = await login(client, "bob")
    root = await login(client, "root", "ops", admin=True)
    sid = (await call(client, "create_session", purpose="audit me", auth_token=alice))["session_id"]
    await call(client, "add_message", session_id=sid, content="hello", auth_token=alice)
    await call(client, "set_memory", key="k", value=SECRET_VALUE, auth_token=alice)
    await fail(client, "set_memory", key="k", value=SECRET_VALUE, overwrite=False, auth_token=alice)
    await call(client, "set_memory", key="k", value=SECRET_VALUE, session_id=sid, auth_token=bob)
    await call(client, "delete_memory", key="k", auth_token=alice)
    await fail(client, "list_memory", auth_token="garbage")
    await fail(
        client,
        "authenticate_agent",
        agent_id="alice",
        agent_type="claude",
        api_key="wrong-key-0123456789",
    )
    return {"alice": alice, "bob": bob, "root": root, "sid": sid}


def brief(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["agent_id"], e["event_type"], e["session_id"], e["outcome"]) for e in entries]


async def test_workflow_leaves_exactly_the_expected_events_in_order(
    client: Client, services: Services
) -> None:
    ctx = await workflow(client)
    sid = ctx["sid"]
    log = await call(client, "get_audit_log", order="asc", auth_token=ctx["root"])
    assert brief(log["entries"]) == [
        ("alice", "authenticate", None, "success"),
        ("bob", "authenticate", None, "success"),
        ("root", "authenticate", None, "success"),
        ("alice", "create_session", sid, "success"),
        ("alice", "add_message", sid, "success"),
        ("alice", "set_memory", None, "success"),
        ("alice", "set_memory", None, "failure"),
        ("bob", "set_memory", sid, "success"),
        ("alice", "delete_memory", None, "success"),
        (None, "token_rejected", None, "failure"),
        ("alice", "authenticate", None, "failure"),
    ]
    entries = log["entries"]
    assert {"id", "timestamp", "agent_id", "event_type", "session_id", "outcome", "details"} <= set(
        entries[0]
    )
    assert entries[5]["details"] == {
        "key": "k",
        "scope": "global",
        "version": 1,
        "size_bytes": len(SECRET_VALUE) + 2,
    }
    assert entries[6]["details"]["code"] == "KEY_EXISTS"
    assert entries[8]["details"] == {"key": "k", "scope": "global", "version": 1}
    newest_first = await call(client, "get_audit_log", auth_token=ctx["root"])
    assert newest_first["entries"] == list(reversed(entries))
    for row in await audit_rows(services):
        assert SECRET_VALUE not in str(row)
        assert ctx["alice"] not in str(row) and "wrong-key" not in str(row)


async def test_pagination_and_filters(client: Client) -> None:
    ctx = await workflow(client)
    root = ctx["root"]
    seen: list[int] = []
    cursor = None
    for _ in range(20):
        page = await call(client, "get_audit_log", limit=3, cursor=cursor, auth_token=root)
        seen += [e["id"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 11 and seen == sorted(seen, reverse=True)
    memory_events = await call(
        client, "get_audit_log", event_type="set_memory", agent_id="alice", auth_token=root
    )
    assert [e["outcome"] for e in memory_events["entries"]] == ["failure", "success"]
    in_session = await call(
        client, "get_audit_log", session_id=ctx["sid"], order="asc", auth_token=root
    )
    assert [e["event_type"] for e in in_session["entries"]] == [
        "create_session",
        "add_message",
        "set_memory",
    ]
    everything = await call(client, "get_audit_log", since="2000-01-01T00:00:00Z", auth_token=root)
    assert len(everything["entries"]) == 11
    future = await call(client, "get_audit_log", since="2999-01-01T00:00:00Z", auth_token=root)
    assert future["entries"] == []


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"agent_id": "alice"},
        {"agent_id": "root"},
        {"event_type": "authenticate"},
        {"event_type": "create_session"},
        {"session_id": "SID"},
        {"since": "2000-01-01T00:00:00Z"},
        {"agent_id": "alice", "session_id": "SID", "event_type": "add_message"},
        {"order": "asc", "limit": 500},
    ],
)
async def test_non_admin_sees_only_own_events_whatever_the_filter(
    client: Client, filters: dict[str, Any]
) -> None:
    ctx = await workflow(client)
    args = {k: (ctx["sid"] if v == "SID" else v) for k, v in filters.items()}
    for name in ("bob", "alice"):
        page = await call(client, "get_audit_log", auth_token=ctx[name], **args)
        assert {e["agent_id"] for e in page["entries"]} <= {name}
    bob_all = await call(client, "get_audit_log", auth_token=ctx["bob"])
    assert brief(bob_all["entries"]) == [
        ("bob", "set_memory", ctx["sid"], "success"),
        ("bob", "authenticate", None, "success"),
    ]


async def test_activity_summary_counts_match(client: Client) -> None:
    ctx = await workflow(client)
    mine = await call(client, "get_agent_activity_summary", auth_token=ctx["alice"])
    assert mine["agent_id"] == "alice"
    assert mine["hours"] == 24
    assert mine["total_events"] == 7
    assert mine["by_event_type"] == {
        "add_message": 1,
        "authenticate": 2,
        "create_session": 1,
        "delete_memory": 1,
        "set_memory": 2,
    }
    assert mine["by_outcome"] == {"failure": 2, "success": 5}
    assert mine["sessions"] == 1
    assert mine["first_event_at"] <= mine["last_event_at"]
    as_admin = await call(
        client, "get_agent_activity_summary", agent_id="alice", auth_token=ctx["root"]
    )
    assert {k: as_admin[k] for k in ("total_events", "by_event_type", "by_outcome")} == {
        k: mine[k] for k in ("total_events", "by_event_type", "by_outcome")
    }
    everyone = await call(client, "get_agent_activity_summary", auth_token=ctx["root"])
    assert everyone["agent_id"] is None
    assert everyone["total_events"] == 11
    assert everyone["by_agent"] == {"alice": 7, "bob": 2, "": 1, "root": 1}
    snooping = await call(
        client, "get_agent_activity_summary", agent_id="alice", auth_token=ctx["bob"]
    )
    assert snooping["total_events"] == 0
    assert snooping["by_event_type"] == {} and snooping["by_agent"] == {}


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("get_audit_log", {"limit": 0}),
        ("get_audit_log", {"limit": 501}),
        ("get_audit_log", {"since": "yesterday"}),
        ("get_audit_log", {"event_type": "a b"}),
        ("get_audit_log", {"agent_id": "!!"}),
        ("get_audit_log", {"session_id": "not-a-session"}),
        ("get_audit_log", {"cursor": "bogus"}),
        ("get_audit_log", {"order": "sideways"}),
        ("get_agent_activity_summary", {"hours": 0}),
        ("get_agent_activity_summary", {"hours": 10**6}),
        ("get_agent_activity_summary", {"agent_id": "has space"}),
    ],
)
async def test_bad_audit_queries_are_invalid_input(
    client: Client, tool: str, args: dict[str, Any]
) -> None:
    token = await login(client, "alice")
    assert (await fail(client, tool, auth_token=token, **args))["code"] == "INVALID_INPUT"


async def test_audit_tools_need_a_token(client: Client) -> None:
    for tool in ("get_audit_log", "get_agent_activity_summary"):
        assert (await fail(client, tool))["code"] == "AUTH_REQUIRED"
