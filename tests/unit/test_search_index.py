"""The SQLite search index: migration 0003, triggers, safe query building, use of the index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.services.container import Services
from shared_context.storage.search import SearchRequest, SearchScope
from shared_context.storage.search_terms import longer_pieces, query_terms, query_trigrams
from shared_context.storage.sqlite.search import explain_candidates, fts_string, match_expression

ALICE = Principal("alice", "claude", AGENT_CEILING)


def memory_index() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5(content, meta, content='', "
        "tokenize='trigram')"
    )
    conn.execute(
        "INSERT INTO messages_fts (rowid, content, meta) VALUES "
        "(1, 'see POL-358 \"quoted\" NEAR(x) col: a\\b 🚀🚀🚀', 'tag')"
    )
    return conn


def test_sqlite_supports_the_trigram_tokenizer() -> None:
    assert sqlite3.sqlite_version_info >= (3, 34, 0)


def test_terms_pieces_and_strings() -> None:
    assert query_terms("Schema  database\tDESIGN db schema") == ["schema", "database", "design"]
    assert query_terms("a\x00bcd") == ["bcd"]
    assert query_terms("ab 🚀") == []
    assert query_trigrams(["abcd", "xyz"]) == ["abc", "xyz", "bcd"]
    assert longer_pieces(["abcdef", "xyz"]) == ["abc", "def", "abcdef"]
    assert fts_string('say "hi"') == '"say ""hi"""'
    assert match_expression(["a", "b"], "OR", content_only=True) == 'content : ("a" OR "b")'


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_builds_a_valid_fts_query(text: str) -> None:
    conn = memory_index()
    terms = query_terms(text)
    if not terms:
        return
    for expression in (
        match_expression(terms, "AND", content_only=False),
        match_expression(query_trigrams(terms), "OR", content_only=True),
        match_expression(longer_pieces(terms) or terms, "OR", content_only=False),
    ):
        conn.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (expression,))


def test_operators_and_punctuation_match_literally() -> None:
    conn = memory_index()
    for query in ("POL-358", '"quoted"', "NEAR(x)", "col:", "a\\b", "🚀🚀🚀"):
        expression = match_expression(query_terms(query), "AND", content_only=False)
        found = conn.execute(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (expression,)
        ).fetchall()
        assert found == [(1,)], query


def _index_rows(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT rowid, 'x' FROM messages_fts WHERE messages_fts MATCH '\"zebra\"'"
        ).fetchall()
    finally:
        conn.close()


async def test_triggers_keep_the_index_in_step(services: Services) -> None:
    store = services.store
    sid = (await services.sessions.create(ALICE, "triggers", None)).session_id
    added = await services.messages.add(ALICE, sid, "a zebra crossing", "public", {"k": "v"})
    mid = added.message_id
    path = Path(store.path)  # type: ignore[attr-defined]
    assert [r[0] for r in _index_rows(path)] == [mid]

    def edit(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE messages SET content = 'a horse' WHERE id = ?", (mid,))

    await store.write(edit)  # type: ignore[attr-defined]
    assert _index_rows(path) == []

    def restore(conn: sqlite3.Connection) -> None:
        conn.execute('UPDATE messages SET metadata = \'{"animal": "zebra"}\' WHERE id = ?', (mid,))

    await store.write(restore)  # type: ignore[attr-defined]
    assert [r[0] for r in _index_rows(path)] == [mid]

    def delete(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM messages WHERE id = ?", (mid,))

    await store.write(delete)  # type: ignore[attr-defined]
    assert _index_rows(path) == []


async def test_migration_indexes_existing_messages(tmp_path: Path) -> None:
    from shared_context.storage.migrations import load
    from shared_context.storage.sqlite.schema import _statements

    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    for migration in load("sqlite"):
        if migration.version == 1:
            for statement in _statements(migration.sql):
                conn.execute(statement)
    conn.execute(
        "INSERT INTO sessions (session_id, purpose, created_by, created_at) "
        "VALUES ('session_0000000000000001', 'p', 'alice', 0)"
    )
    conn.execute(
        "INSERT INTO messages (session_id, sender, sender_type, content, visibility, metadata, "
        "created_at) VALUES ('session_0000000000000001', 'alice', 'claude', 'old zebra', "
        "'public', '{\"n\": [\"nested value\"]}', 0)"
    )
    search = next(m for m in load("sqlite") if m.name == "search")
    for statement in _statements(search.sql):
        conn.execute(statement)
    for needle in ("zebra", "nested value"):
        found = conn.execute(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (fts_string(needle),)
        ).fetchall()
        assert found == [(1,)], needle


async def test_candidate_stage_reads_the_fts_index(services: Services) -> None:
    store = services.store
    sid = (await services.sessions.create(ALICE, "plan", None)).session_id
    await services.messages.add(ALICE, sid, "database schema design", "public", None)
    plan = await store.read(lambda conn: explain_candidates(conn, ALICE, sid))  # type: ignore[attr-defined]
    assert any("messages_fts VIRTUAL TABLE" in step for step in plan), plan
    assert any("INTEGER PRIMARY KEY" in step for step in plan), plan
    found = await services.search._search.candidates(
        ALICE, SearchRequest(session_id=sid, query="schema", scope=SearchScope.PUBLIC)
    )
    assert [c.content for c in found] == ["database schema design"]
    assert found[0].exact is True
    assert found[0].message().content == "database schema design"


async def test_candidates_of_an_empty_session_and_short_query(services: Services) -> None:
    sid = (await services.sessions.create(ALICE, "empty", None)).session_id
    search = services.search._search
    assert await search.candidates(ALICE, SearchRequest(session_id=sid, query="anything")) == []
    assert await search.candidates(ALICE, SearchRequest(session_id=sid, query="ab")) == []


async def test_common_trigrams_give_way_to_longer_pieces_within_budget(
    services: Services,
) -> None:
    from shared_context.storage.sqlite.search import SqliteSearch

    sid = (await services.sessions.create(ALICE, "budget", None)).session_id
    for text in ("abcdef one", "abcxyz two", "defabc three", "abcdef four"):
        await services.messages.add(ALICE, sid, text, "public", None)
    tight = SqliteSearch(services.store, probe_cap=1, budget=1)  # type: ignore[arg-type]
    # Every trigram of "abcdeg" is common (> 1 message) or absent; halves are probed instead.
    found = await tight.candidates(ALICE, SearchRequest(session_id=sid, query="abcdeg"))
    assert found == []
    found = await tight.candidates(ALICE, SearchRequest(session_id=sid, query="zyx xyz two"))
    assert {c.content for c in found} == {"abcxyz two"}


def test_runner_applies_missing_migrations_whatever_their_order(tmp_path: Path) -> None:
    from shared_context.storage.migrations import load
    from shared_context.storage.sqlite.schema import _statements, migrate

    conn = sqlite3.connect(tmp_path / "core.db", isolation_level=None)
    migrate(conn)
    latest = max(m.version for m in load("sqlite"))
    conn.execute("DROP TABLE messages_fts")
    for trigger in ("insert", "update", "delete"):
        conn.execute(f"DROP TRIGGER messages_fts_{trigger}")
    conn.execute("DELETE FROM schema_version WHERE name = 'search'")
    assert migrate(conn) == latest  # the search migration is missing, so it runs again
    assert conn.execute("SELECT count(*) FROM messages_fts").fetchone() == (0,)
    assert migrate(conn) == latest  # and nothing runs twice
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
    assert len(versions) == len(set(versions))
    assert _statements("-- only a comment\n") == []
