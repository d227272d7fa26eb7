"""The SQLite candidate stage of search, on the ``messages_fts`` trigram index (migration 0003).

The user's query is plain text. It is cut into *terms* (whitespace-separated, lower-cased, three
or more characters: the trigram tokenizer cannot match less) and each term into *pieces*: its
trigrams, its two halves and the term itself. Every piece reaches FTS5 as a quoted string with
doubled quotes, so quotes, ``*``, ``-``, ``NEAR(``, ``col:`` and the like are only characters.

Two index queries produce the candidates, each with a cost bounded whatever the session size:

- *exact*: messages containing the (up to three) longest terms (AND), newest first; those
  holding every term verbatim are marked exact: they are the best fuzzy matches and win ties.
- *rare pieces*: each trigram's document count is probed up to ``probe_cap`` (a longer piece
  is probed only when all its trigrams are too common to use); the rarest pieces whose counts
  fit the ``budget`` are OR-ed and every message matching one of them is a candidate. Rare
  trigrams survive typos ("colaboration" still shares "lab", "bor" and "ration" with
  "collaboration"), and because only selective postings are read, the cost stays flat from a
  thousand messages to millions, where ranking every common trigram ("ion", "the") would touch
  most of the index. (bm25 is not computed: measured at ~10 µs per row, it did not pay for
  itself as a tie-breaker; ``text_rank`` stays 0.)

Probe counts are remembered per index state (``search_terms.PieceCounts``, the state being the
largest message id), so while no message is added a trigram is probed once, not per search.

Both queries join ``messages`` with the visibility filter and the scope inside the SQL.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from shared_context.domain import visibility as vis
from shared_context.domain.models import Principal
from shared_context.storage import rows
from shared_context.storage.search import Candidate, SearchRequest, SearchScope, scope_sql
from shared_context.storage.search_terms import (
    EXACT_ANCHORS,
    CommonPieces,
    KnownCounts,
    PieceCounts,
    absent,
    choose_rare,
    holds_all,
    query_terms,
)
from shared_context.storage.sqlite.store import SqliteStore

FTS_TABLE = "messages_fts"


def fts_string(text: str) -> str:
    """One FTS5 string literal: the text is matched as characters, never parsed as syntax."""
    return '"' + text.replace('"', '""') + '"'


def match_expression(pieces: list[str], operator: str, *, content_only: bool) -> str:
    expression = f" {operator} ".join(fts_string(p) for p in pieces)
    return f"content : ({expression})" if content_only else expression


@dataclass(frozen=True, slots=True)
class _Filters:
    sql: str
    params: list[Any]


class SqliteSearch:
    """``storage.search.SearchStore`` on SQLite FTS5."""

    def __init__(self, store: SqliteStore, *, probe_cap: int = 400, budget: int = 400) -> None:
        self._store = store
        self._probe_cap = probe_cap
        self._budget = budget
        self._common = CommonPieces()
        self._counts = PieceCounts()

    async def candidates(self, viewer: Principal, request: SearchRequest) -> list[Candidate]:
        terms = query_terms(request.query)
        if not terms:
            return []
        filters = _filters(viewer, request.session_id, request.scope)
        content_only = not request.search_metadata
        limit = request.candidate_limit

        def fn(conn: sqlite3.Connection) -> list[Candidate]:
            # Subqueries: each is one index seek; MIN and MAX together would scan. The last
            # is the index's state for the piece counts (see ``PieceCounts``).
            first, last, state = conn.execute(
                "SELECT (SELECT MIN(id) FROM messages WHERE session_id = ?1), "
                "(SELECT MAX(id) FROM messages WHERE session_id = ?1), "
                "(SELECT MAX(id) FROM messages)",
                (request.session_id,),
            ).fetchone()
            if first is None:
                return []
            span = (first, last)
            found: dict[int, Candidate] = {}
            counts: dict[str, int] = {}
            rare = self._rare_pieces(conn, terms, content_only, counts, self._counts.at(state))
            # The longest terms are the most selective; the rest are checked on the rows, so
            # a long query of words that never co-occur cannot make the AND scan the index.
            # A term with a trigram no document holds matches nothing: the AND is skipped.
            anchors = sorted(terms, key=len, reverse=True)[:EXACT_ANCHORS]
            if not any(absent(anchor, counts) for anchor in anchors):
                exact = match_expression(anchors, "AND", content_only=content_only)
                for row in self._matching(conn, exact, span, filters, max(1, limit // 2)):
                    found[row[0]] = Candidate(row, exact=holds_all(row, terms, content_only))
            if rare and len(found) < limit:
                loose = match_expression(rare, "OR", content_only=content_only)
                for row in self._matching(conn, loose, span, filters, limit):
                    if row[0] not in found and len(found) < limit:
                        found[row[0]] = Candidate(row)
            return list(found.values())

        result: list[Candidate] = await self._store.read(fn)
        return result

    async def recent_visible(
        self, viewer: Principal, session_id: str, *, scope: SearchScope, window: int
    ) -> list[Candidate]:
        filters = _filters(viewer, session_id, scope)
        sql = (
            f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m WHERE {filters.sql} "
            "ORDER BY m.id DESC LIMIT ?"
        )

        def fn(conn: sqlite3.Connection) -> list[Candidate]:
            return [Candidate(r) for r in conn.execute(sql, [*filters.params, window])]

        result: list[Candidate] = await self._store.read(fn)
        return result

    def _matching(
        self,
        conn: sqlite3.Connection,
        expression: str,
        span: tuple[int, int],
        filters: _Filters,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        params = [expression, span[0], span[1], *filters.params, limit]
        return list(conn.execute(candidate_sql(filters.sql), params))

    def _count(self, conn: sqlite3.Connection, piece: str, content_only: bool) -> int:
        expression = match_expression([piece], "OR", content_only=content_only)
        row = conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT ?)",
            (expression, self._probe_cap + 1),
        ).fetchone()
        return int(row[0])

    def _rare_pieces(
        self,
        conn: sqlite3.Connection,
        terms: list[str],
        content_only: bool,
        counts: dict[str, int],
        known: KnownCounts,
    ) -> list[str]:
        """The most selective pieces whose document counts together fit the budget; every
        used piece's count lands in ``counts``; ``known``: counts at this index state."""
        plan = choose_rare(
            terms,
            content_only=content_only,
            probe_cap=self._probe_cap,
            budget=self._budget,
            common=self._common,
            counts=counts,
            known=known,
        )
        try:
            piece = next(plan)
            while True:
                piece = plan.send(self._count(conn, piece, content_only))
        except StopIteration as done:
            chosen: list[str] = done.value
            return chosen


def candidate_sql(filters_sql: str) -> str:
    """Index matches within the session's id span, joined to its visible, in-scope messages,
    newest first."""
    return (
        f"SELECT {rows.MESSAGE_COLUMNS} FROM {FTS_TABLE} "
        f"JOIN messages m ON m.id = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH ? AND {FTS_TABLE}.rowid BETWEEN ? AND ? AND {filters_sql} "
        f"ORDER BY {FTS_TABLE}.rowid DESC LIMIT ?"
    )


def _filters(viewer: Principal, session_id: str, scope: SearchScope) -> _Filters:
    visible, vparams = vis.sql_filter(viewer)
    scoped, sparams = scope_sql(viewer, scope)
    return _Filters(
        sql=f"m.session_id = ? AND {visible} AND {scoped}",
        params=[session_id, *vparams, *sparams],
    )


def explain_candidates(conn: sqlite3.Connection, viewer: Principal, session_id: str) -> list[str]:
    """The query plan of the candidate query (tests check it reads the FTS index)."""
    filters = _filters(viewer, session_id, SearchScope.ALL)
    sql = "EXPLAIN QUERY PLAN " + candidate_sql(filters.sql)
    return [str(r[-1]) for r in conn.execute(sql, ['"abc"', 1, 2, *filters.params, 10])]
