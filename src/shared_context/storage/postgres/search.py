"""The PostgreSQL candidate stage of search, on ``pg_trgm`` GIN indexes (migration 0003).

The same two index queries as ``sqlite/search.py`` (whose query analysis it shares: terms,
trigrams, longer pieces, the "holds every term" test), answered by ``LIKE '%piece%'`` over
``lower(content)`` and ``lower(scs_meta_text(metadata))``, both GIN-indexed with
``gin_trgm_ops``. An FTS5 trigram phrase and a case-folded substring test select the same
messages, so the candidates, and after RapidFuzz scoring the results, match SQLite's. Pieces
are passed as parameters with ``%``, ``_`` and ``\\`` escaped: a query is only ever text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared_context.domain import visibility as vis
from shared_context.domain.models import Principal
from shared_context.storage import rows
from shared_context.storage.postgres.sql import pg
from shared_context.storage.postgres.store import PostgresStore
from shared_context.storage.search import Candidate, SearchRequest, SearchScope, scope_sql
from shared_context.storage.search_terms import (
    EXACT_ANCHORS,
    CommonPieces,
    absent,
    choose_rare,
    holds_all,
    query_terms,
)

CONTENT = "lower(m.content)"
META = "lower(scs_meta_text(m.metadata))"


def like_pattern(piece: str) -> str:
    escaped = piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def piece_match(content_only: bool) -> str:
    """One piece (a ``?`` LIKE pattern) found in the content, or the metadata too."""
    return f"{CONTENT} LIKE ?" if content_only else f"({CONTENT} LIKE ? OR {META} LIKE ?)"


def match_sql(count: int, operator: str, content_only: bool) -> str:
    return "(" + f" {operator} ".join([piece_match(content_only)] * count) + ")"


def match_params(pieces: list[str], content_only: bool) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        pattern = like_pattern(piece)
        out.extend([pattern] if content_only else [pattern, pattern])
    return out


@dataclass(frozen=True, slots=True)
class _Filters:
    sql: str
    params: list[Any]


def _filters(viewer: Principal, session_id: str, scope: SearchScope) -> _Filters:
    visible, vparams = vis.sql_filter(viewer)
    scoped, sparams = scope_sql(viewer, scope)
    return _Filters(
        sql=f"m.session_id = ? AND {visible} AND {scoped}",
        params=[session_id, *vparams, *sparams],
    )


class PostgresSearch:
    """``storage.search.SearchStore`` on PostgreSQL pg_trgm."""

    def __init__(self, store: PostgresStore, *, probe_cap: int = 400, budget: int = 400) -> None:
        self._store = store
        self._probe_cap = probe_cap
        self._budget = budget
        self._common = CommonPieces()

    async def candidates(self, viewer: Principal, request: SearchRequest) -> list[Candidate]:
        terms = query_terms(request.query)
        if not terms:
            return []
        filters = _filters(viewer, request.session_id, request.scope)
        content_only = not request.search_metadata
        limit = request.candidate_limit
        found: dict[int, Candidate] = {}
        async with self._store.connection() as conn:
            counts: dict[str, int] = {}
            rare = await self._rare_pieces(conn, terms, content_only, counts)
            # A term with a trigram no message holds matches nothing: the AND is skipped.
            anchors = sorted(terms, key=len, reverse=True)[:EXACT_ANCHORS]
            if not any(absent(anchor, counts) for anchor in anchors):
                for row in await self._matching(
                    conn, anchors, "AND", content_only, filters, max(1, limit // 2)
                ):
                    found[row[0]] = Candidate(row, exact=holds_all(row, terms, content_only))
            if rare and len(found) < limit:
                for row in await self._matching(conn, rare, "OR", content_only, filters, limit):
                    if row[0] not in found and len(found) < limit:
                        found[row[0]] = Candidate(row)
        return list(found.values())

    async def recent_visible(
        self, viewer: Principal, session_id: str, *, scope: SearchScope, window: int
    ) -> list[Candidate]:
        filters = _filters(viewer, session_id, scope)
        sql = (
            f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m WHERE {filters.sql} "
            "ORDER BY m.id DESC LIMIT ?"
        )
        async with self._store.connection() as conn:
            found = await conn.fetch(pg(sql), *filters.params, window)
        return [Candidate(tuple(r)) for r in found]

    async def _matching(
        self,
        conn: Any,
        pieces: list[str],
        operator: str,
        content_only: bool,
        filters: _Filters,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        sql = (
            f"SELECT {rows.MESSAGE_COLUMNS} FROM messages m "
            f"WHERE {match_sql(len(pieces), operator, content_only)} AND {filters.sql} "
            "ORDER BY m.id DESC LIMIT ?"
        )
        params = [*match_params(pieces, content_only), *filters.params, limit]
        return [tuple(r) for r in await conn.fetch(pg(sql), *params)]

    async def _count(self, conn: Any, piece: str, content_only: bool) -> int:
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM messages m "
            f"WHERE {match_sql(1, 'OR', content_only)} LIMIT ?) AS hits"
        )
        params = [*match_params([piece], content_only), self._probe_cap + 1]
        return int(await conn.fetchval(pg(sql), *params))

    async def _rare_pieces(
        self, conn: Any, terms: list[str], content_only: bool, counts: dict[str, int]
    ) -> list[str]:
        """The most selective pieces whose document counts together fit the budget (the rule
        of ``search_terms.choose_rare``, counted on the trigram indexes); every probed piece's
        count lands in ``counts``."""
        plan = choose_rare(
            terms,
            content_only=content_only,
            probe_cap=self._probe_cap,
            budget=self._budget,
            common=self._common,
            counts=counts,
        )
        try:
            piece = next(plan)
            while True:
                piece = plan.send(await self._count(conn, piece, content_only))
        except StopIteration as done:
            chosen: list[str] = done.value
            return chosen
