"""search_context finds what agents mean: typos, reordered words, ticket ids, metadata."""

from __future__ import annotations

import pytest
from fastmcp import Client

from shared_context.benchmark.search_corpus import CORPUS, QUERIES, precision_at_3
from tests.helpers import call, login


@pytest.fixture
async def corpus(client: Client) -> tuple[str, str, dict[int, str]]:
    """A session holding the relevance corpus; returns (token, session_id, id -> key)."""
    token = await login(client, "alice", "claude")
    sid = (await call(client, "create_session", purpose="relevance", auth_token=token))[
        "session_id"
    ]
    keys: dict[int, str] = {}
    for key, (content, metadata) in CORPUS.items():
        added = await call(
            client,
            "add_message",
            session_id=sid,
            content=content,
            metadata=metadata or None,
            auth_token=token,
        )
        keys[added["message_id"]] = key
    return token, sid, keys


async def ranked(
    client: Client, token: str, sid: str, keys: dict[int, str], **args: object
) -> list[str]:
    body = await call(client, "search_context", session_id=sid, auth_token=token, **args)
    assert isinstance(body["search_time_ms"], float | int)
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    return [keys[r["message"]["id"]] for r in body["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("colaboration", "collab"),
        ("schema database design", "schema"),
        ("POL-358", "ticket"),
        ("INC-7781", "meta_only"),
        ("payment gateway incident", "meta_only"),
    ],
)
async def test_required_queries_rank_their_message_first(
    client: Client, corpus: tuple[str, str, dict[int, str]], query: str, expected: str
) -> None:
    token, sid, keys = corpus
    assert (await ranked(client, token, sid, keys, query=query))[0] == expected


async def test_precision_at_3_over_the_corpus_is_perfect(
    client: Client, corpus: tuple[str, str, dict[int, str]]
) -> None:
    token, sid, keys = corpus
    for query, relevant in QUERIES.items():
        top = await ranked(client, token, sid, keys, query=query, limit=3)
        assert precision_at_3(top, relevant) == 1.0, (query, top)


async def test_metadata_match_previews_the_metadata_value(
    client: Client, corpus: tuple[str, str, dict[int, str]]
) -> None:
    token, sid, _ = corpus
    body = await call(client, "search_context", session_id=sid, query="INC-7781", auth_token=token)
    best = body["results"][0]
    assert best["matched_in"] == "metadata"
    assert best["match_preview"] == "INC-7781"
    assert best["message"]["metadata"]["ticket"] == "INC-7781"


async def test_search_metadata_false_ignores_metadata(
    client: Client, corpus: tuple[str, str, dict[int, str]]
) -> None:
    token, sid, keys = corpus
    top = await ranked(client, token, sid, keys, query="INC-7781", search_metadata=False)
    assert "meta_only" not in top


async def test_threshold_filters_and_limit_bounds(
    client: Client, corpus: tuple[str, str, dict[int, str]]
) -> None:
    token, sid, keys = corpus
    strict = await call(
        client,
        "search_context",
        session_id=sid,
        query="POL-358",
        fuzzy_threshold=100,
        auth_token=token,
    )
    assert [keys[r["message"]["id"]] for r in strict["results"]] == ["ticket"]
    assert strict["results"][0]["score"] == 100
    # No verbatim hit and a page the index cannot fill: every visible message is scored.
    loose = await ranked(client, token, sid, keys, query="qqqq", fuzzy_threshold=0, limit=100)
    assert len(loose) == len(CORPUS)
    assert len(await ranked(client, token, sid, keys, query="the", limit=2)) == 2


async def test_preview_is_a_window_around_the_match(client: Client) -> None:
    token = await login(client, "alice", "claude")
    sid = (await call(client, "create_session", purpose="long", auth_token=token))["session_id"]
    text = "lorem ipsum " * 60 + "the needle haystack marker" + " dolor sit" * 60
    await call(client, "add_message", session_id=sid, content=text, auth_token=token)
    body = await call(
        client, "search_context", session_id=sid, query="needle haystack", auth_token=token
    )
    shown = body["results"][0]["match_preview"]
    assert len(shown) <= 200
    assert "needle haystack" in shown
    assert shown.startswith("…") and shown.endswith("…")


async def test_short_queries_fall_back_to_recent_messages(
    client: Client, corpus: tuple[str, str, dict[int, str]]
) -> None:
    token, sid, keys = corpus
    body = await call(
        client, "search_context", session_id=sid, query="CI", auth_token=token, limit=3
    )
    assert body["widened"] is True
    assert "ticket_near" in [keys[r["message"]["id"]] for r in body["results"]]
