"""Hostile or malformed search input gives results or a clear INVALID_INPUT, never a crash."""

from __future__ import annotations

import pytest
from fastmcp import Client

from tests.helpers import call, fail, login

NASTY_QUERIES = [
    '"',
    '""',
    "'",
    'say "hello',
    "POL-358",
    "-358",
    "*",
    "coll*",
    "NEAR(",
    "NEAR(a b, 2)",
    "col:",
    "content: secret",
    "meta : x",
    "\\",
    "C:\\path\\file",
    "🚀",
    "🚀🚀🚀 launch",
    "a",
    "ab",
    "a b",
    "AND",
    "OR NOT AND",
    "(",
    ")(",
    "^start",
    "{a b}",
    "a\x00b",
    "tab\there",
    "'; DROP TABLE messages; --",
    "x" * 500,
]


@pytest.fixture
async def seeded(client: Client) -> tuple[str, str]:
    token = await login(client, "alice", "claude")
    sid = (await call(client, "create_session", purpose="bad input", auth_token=token))[
        "session_id"
    ]
    for content in (
        "Fixed the crash, see POL-358.",
        'He said "hello" and left.',
        "Path C:\\path\\file was wrong",
        "🚀🚀🚀 launch day",
        "NEAR(a b, 2) is FTS syntax",
    ):
        await call(
            client,
            "add_message",
            session_id=sid,
            content=content,
            metadata={"tag": content[:10]},
            auth_token=token,
        )
    return token, sid


@pytest.mark.parametrize("query", NASTY_QUERIES)
async def test_nasty_queries_are_plain_text(
    client: Client, seeded: tuple[str, str], query: str
) -> None:
    token, sid = seeded
    for scope in ("all", "public", "private"):
        for search_metadata in (True, False):
            body = await call(
                client,
                "search_context",
                session_id=sid,
                query=query,
                search_scope=scope,
                search_metadata=search_metadata,
                auth_token=token,
            )
            assert isinstance(body["results"], list)


async def test_punctuated_queries_find_their_text(client: Client, seeded: tuple[str, str]) -> None:
    token, sid = seeded
    for query, expected in (
        ("POL-358", "POL-358"),
        ('"hello"', "hello"),
        ("C:\\path", "C:\\path"),
        ("NEAR(a b", "NEAR(a b"),
        ("🚀🚀🚀", "🚀"),
    ):
        body = await call(client, "search_context", session_id=sid, query=query, auth_token=token)
        assert expected in body["results"][0]["message"]["content"], query


@pytest.mark.parametrize(
    "args",
    [
        {"query": "x" * 501},
        {"query": ""},
        {"query": "   "},
        {"query": "ok", "fuzzy_threshold": -1},
        {"query": "ok", "fuzzy_threshold": 101},
        {"query": "ok", "limit": 0},
        {"query": "ok", "limit": 101},
        {"query": "ok", "search_scope": "everything"},
    ],
)
async def test_out_of_range_arguments_are_invalid_input(
    client: Client, seeded: tuple[str, str], args: dict[str, object]
) -> None:
    token, sid = seeded
    body = await fail(client, "search_context", session_id=sid, auth_token=token, **args)
    assert body["code"] == "INVALID_INPUT"
    assert body["message"]


async def test_unknown_session_and_missing_token(client: Client, seeded: tuple[str, str]) -> None:
    token, _ = seeded
    body = await fail(
        client,
        "search_context",
        session_id="session_0000000000000000",
        query="x",
        auth_token=token,
    )
    assert body["code"] == "SESSION_NOT_FOUND"
    body = await fail(client, "search_context", session_id="nope", query="x", auth_token=token)
    assert body["code"] == "SESSION_NOT_FOUND"  # a malformed id answers like a missing one
    body = await fail(client, "search_by_sender", session_id="nope", sender="alice")
    assert body["code"] == "AUTH_REQUIRED"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("yesterday", "2030-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z"),
        ("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("", "2026-01-01T00:00:00Z"),
    ],
)
async def test_bad_time_ranges_are_invalid_input(
    client: Client, seeded: tuple[str, str], start: str, end: str
) -> None:
    token, sid = seeded
    body = await fail(
        client,
        "search_by_timerange",
        session_id=sid,
        start_time=start,
        end_time=end,
        auth_token=token,
    )
    assert body["code"] == "INVALID_INPUT"


@pytest.mark.parametrize("limit", [0, 201])
async def test_timerange_limit_bounds(client: Client, seeded: tuple[str, str], limit: int) -> None:
    token, sid = seeded
    body = await fail(
        client,
        "search_by_timerange",
        session_id=sid,
        start_time="2000-01-01T00:00:00Z",
        end_time="2100-01-01T00:00:00Z",
        limit=limit,
        auth_token=token,
    )
    assert body["code"] == "INVALID_INPUT"


@pytest.mark.parametrize(("sender", "limit"), [("bad sender!", 20), ("alice", 0), ("alice", 101)])
async def test_sender_lookup_bounds(
    client: Client, seeded: tuple[str, str], sender: str, limit: int
) -> None:
    token, sid = seeded
    body = await fail(
        client, "search_by_sender", session_id=sid, sender=sender, limit=limit, auth_token=token
    )
    assert body["code"] == "INVALID_INPUT"
