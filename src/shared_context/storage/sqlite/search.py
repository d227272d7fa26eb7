"""The SQLite candidate stage of search, on the ``messages_fts`` trigram index (migration 0003).

The user's query is plain text. It is cut into *terms* (whitespace-separated, lower-cased, three
or more characters: the trigram tokenizer cannot match less) and each term into *pieces*: the
term itself, its two halves and its trigrams. Every piece reaches FTS5 as a quoted string with
doubled quotes, so quotes, ``*``, ``-``, ``NEAR(``, ``col:`` and the like are only characters.

Two index queries produce the candidates, each with cost bounded whatever the session size:

- *exact*: messages containing every term (AND of the terms), newest first, over a bounded
  scan of the index. Exact hits are the best fuzzy matches and are kept first on ties.
- *rare pieces*: each piece's document count is probed up to ``probe_cap``; the rarest pieces
  that fit a posting ``budget`` are OR-ed and ranked by bm25. Rare trigrams and halves survive
  typos ("colaboration" still shares "lab", "bor", "ration" with "collaboration"), and ranking
  only selective postings keeps the cost flat from a thousand messages to millions, where
  ranking every common trigram ("ion", "the") would touch most of the index.

Both queries join ``messages`` with the visibility filter and the scope inside the SQL.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass
from typing import Any

from shared_context.domain import visibility as vis
from shared_context.domain.models import Message, Principal
from shared_context.storage.search import Candidate, SearchRequest, SearchScope, scope_sql
from shared_context.storage.sqlite import rows
from shared_context.storage.sqlite.store import SqliteStore

FTS_TABLE = "messages_fts"
MIN_TERM = 3
MAX_TERMS = 16
MAX_PIECES = 24


def fts_string(text: str) -> str:
    """One FTS5 string literal: the text is matched as characters, never parsed as syntax."""
    return '"' + text.replace('"', '""') + '"'


def query_terms(query: str) -> list[str]:
    """Distinct lower-cased terms of at least three characters, in query order (bounded)."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs", "Zs") else ch for ch in query.lower()
    )
    terms: list[str] = []
    for word in cleaned.split():
        if len(word) >= MIN_TERM and word not in terms:
            terms.append(word)
            if len(terms) == MAX_TERMS:
                break
    return terms


def query_pieces(terms: list[str]) -> list[str]:
    """Terms, then halves of long terms, then trigrams taken round-robin across terms."""
    pieces: list[str] = []

    def add(piece: str) -> None:
        if len(pieces) < MAX_PIECES and len(piece) >= MIN_TERM and piece not in pieces:
            pieces.append(piece)

    for term in terms:
        add(term)
    for term in terms:
        if len(term) >= 2 * MIN_TERM:
            half = len(term) // 2
            add(term[:half])
            add(term[half:])
    trigrams = [[t[i : i + MIN_TERM] for i in range(len(t) - MIN_TERM + 1)] for t in terms]
    for position in range(max((len(t) for t in trigrams), default=0)):
        for grams in trigrams:
            if position < len(grams):
                add(grams[position])
    return pieces


def match_expression(pieces: list[str], operator: str, *, content_only: bool) -> str:
    expression = f" {operator} ".join(fts_string(p) for p in pieces)
    return f"content : ({expression})" if content_only else expression


@dataclass(frozen=True, slots=True)
class _Filters:
    sql: str
    params: list[Any]


class SqliteSearch:
    """``storage.search.SearchStore`` on SQLite FTS5."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        probe_cap: int = 1000,
        budget: int = 4000,
    ) -> None:
        self._store = store
        self._probe_cap = probe_cap
        self._budget = budget

    async def candidates(self, viewer: Principal, request: SearchRequest) -> list[Candidate]:
        terms = query_terms(request.query)
        if not terms:
            return []
        pieces = query_pieces(terms)
        filters = _filters(viewer, request.session_id, request.scope)
        content_only = not request.search_metadata
        exact_limit = max(1, request.candidate_limit // 2)

        def fn(conn: sqlite3.Connection) -> list[Candidate]:
            span = conn.execute(
                "SELECT MIN(id), MAX(id) FROM messages WHERE session_id = ?",
                (request.session_id,),
            ).fetchone()
            if span[0] is None:
                return []
            found: dict[int, Candidate] = {}
            for message in self._exact(conn, terms, filters, content_only, exact_limit, span):
                found[message.id] = Candidate(message, exact=True)
            rare = self._rare_pieces(conn, pieces, content_only)
            if rare:
                room = request.candidate_limit - len(found)
                for message, rank in self._ranked(conn, rare, filters, content_only, room):
                    old = found.get(message.id)
                    found[message.id] = Candidate(
                        message, exact=old is not None and old.exact, text_rank=rank
                    )
            return list(found.values())[: request.candidate_limit]

        result: list[Candidate] = await self._store.read(fn)
        return result

    async def recent_visible(
        self, viewer: Principal, session_id: str, *, scope: SearchScope, window: int
    ) -> list[Message]:
        filters = _filters(viewer, session_id, scope)
        sql = (
            f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m WHERE {filters.sql} "
            "ORDER BY m.id DESC LIMIT ?"
        )

        def fn(conn: sqlite3.Connection) -> list[Message]:
            return [rows.message(r) for r in conn.execute(sql, [*filters.params, window])]

        result: list[Message] = await self._store.read(fn)
        return result

    # --- the two index queries --------------------------------------------------------------
    def _exact(
        self,
        conn: sqlite3.Connection,
        terms: list[str],
        filters: _Filters,
        content_only: bool,
        limit: int,
        span: tuple[int, int],
    ) -> list[Message]:
        sql = (
            f"SELECT {rows.MESSAGE_COLUMNS} FROM {FTS_TABLE} "
            f"JOIN messages m ON m.id = {FTS_TABLE}.rowid "
            f"WHERE {FTS_TABLE} MATCH ? AND {FTS_TABLE}.rowid BETWEEN ? AND ? AND {filters.sql} "
            f"ORDER BY {FTS_TABLE}.rowid DESC LIMIT ?"
        )
        expression = match_expression(terms, "AND", content_only=content_only)
        low, high = span
        params = [expression, low, high, *filters.params, limit]
        return [rows.message(r) for r in conn.execute(sql, params)]

    def _rare_pieces(
        self, conn: sqlite3.Connection, pieces: list[str], content_only: bool
    ) -> list[str]:
        """The most selective pieces whose postings together fit the budget."""
        probe = (
            f"SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT ?)"
        )
        counted: list[tuple[int, int, str]] = []
        for order, piece in enumerate(pieces):
            expression = match_expression([piece], "OR", content_only=content_only)
            count = int(conn.execute(probe, (expression, self._probe_cap + 1)).fetchone()[0])
            if 0 < count <= self._probe_cap:
                counted.append((count, order, piece))
        counted.sort()
        chosen: list[str] = []
        spent = 0
        for count, _, piece in counted:
            if spent + count > self._budget:
                break
            chosen.append(piece)
            spent += count
        return chosen

    def _ranked(
        self,
        conn: sqlite3.Connection,
        pieces: list[str],
        filters: _Filters,
        content_only: bool,
        limit: int,
    ) -> list[tuple[Message, float]]:
        if limit <= 0:
            return []
        sql = ranked_sql(filters.sql)
        expression = match_expression(pieces, "OR", content_only=content_only)
        params = [expression, *filters.params, limit]
        return [(rows.message(r), float(r[-1])) for r in conn.execute(sql, params)]


def _filters(viewer: Principal, session_id: str, scope: SearchScope) -> _Filters:
    visible, vparams = vis.sql_filter(viewer)
    scoped, sparams = scope_sql(viewer, scope)
    return _Filters(
        sql=f"m.session_id = ? AND {visible} AND {scoped}",
        params=[session_id, *vparams, *sparams],
    )


def ranked_sql(filters_sql: str) -> str:
    """bm25-ranked index matches joined to the visible, in-scope messages of one session."""
    return (
        f"SELECT {rows.MESSAGE_COLUMNS}, {FTS_TABLE}.rank FROM {FTS_TABLE} "
        f"JOIN messages m ON m.id = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH ? AND {filters_sql} ORDER BY {FTS_TABLE}.rank LIMIT ?"
    )


def explain_candidates(conn: sqlite3.Connection, viewer: Principal, session_id: str) -> list[str]:
    """The query plan of the ranked candidate query (for tests and docs)."""
    filters = _filters(viewer, session_id, SearchScope.ALL)
    sql = "EXPLAIN QUERY PLAN " + ranked_sql(filters.sql)
    return [str(r[-1]) for r in conn.execute(sql, ['"abc"', *filters.params, 10])]
