"""Search over a session's messages: fuzzy text search, by sender, by time range.

``search_context`` runs in two stages. The storage backend's full-text index narrows the
session to a bounded set of candidates (``storage.search.SearchStore``), already filtered by
visibility and scope in its query; RapidFuzz then scores each candidate's content (and the
string values of its metadata) against the query. When the index yields fewer candidates
than the page or none that reaches the threshold, and no message held the query verbatim,
the most recent visible messages (a bounded window) are scored as well: short queries and
heavy typos still find recent matches, and small sessions behave like an exhaustive search.

Scoring and ranking live in ``services/search_scoring.py``.
"""

from __future__ import annotations

import math
import time
from typing import Literal

from shared_context.domain.bounds import (
    QUERY_MAX_CHARS,
    SEARCH_RESULTS,
    SENDER_PAGE,
    TIMERANGE_PAGE,
)
from shared_context.domain.clock import parse_iso
from shared_context.domain.errors import InvalidInput
from shared_context.domain.ids import check_agent_id
from shared_context.domain.models import MessageQuery, Principal
from shared_context.domain.permissions import Permission, require
from shared_context.domain.validation import check_int, check_text, decode_cursor
from shared_context.services.messages import MessageService
from shared_context.services.results import (
    MessagePage,
    SearchHit,
    SearchResults,
    message_page,
    message_shape,
)
from shared_context.services.search_scoring import (
    SCORE_CHAR_BUDGET,
    Scored,
    preview,
    rank,
    score_candidates,
    score_text,
    within_budget,
)
from shared_context.services.search_text import NormalisedTexts, metadata_strings
from shared_context.services.sessions import SessionService
from shared_context.storage.search import SearchRequest, SearchScope, SearchStore


def check_threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("fuzzy_threshold must be a number from 0 to 100.")
    if not 0 <= value <= 100:
        raise InvalidInput(f"fuzzy_threshold must be from 0 to 100; got {value}.")
    return float(value)


def parse_scope(value: object) -> SearchScope:
    try:
        return SearchScope(str(value))
    except ValueError as exc:
        raise InvalidInput(
            f"search_scope must be one of all, public, private; got {str(value)[:30]!r}."
        ) from exc


class SearchService:
    def __init__(
        self,
        search: SearchStore,
        sessions: SessionService,
        messages: MessageService,
        *,
        candidate_limit: int = 500,
        fallback_window: int = 1000,
    ) -> None:
        self._search = search
        self._sessions = sessions
        self._messages = messages
        self._candidate_limit = candidate_limit
        self._fallback_window = fallback_window
        self._normalised = NormalisedTexts()

    async def search_context(
        self,
        principal: Principal,
        session_id: str,
        query: str,
        fuzzy_threshold: float = 60,
        limit: int = 10,
        search_scope: Literal["all", "public", "private"] = "all",
        search_metadata: bool = True,
    ) -> SearchResults:
        started = time.perf_counter()
        require(principal, Permission.READ)
        text = check_text(query, "query", max_chars=QUERY_MAX_CHARS)
        threshold = check_threshold(fuzzy_threshold)
        page = check_int(limit, "limit", low=SEARCH_RESULTS[0], high=SEARCH_RESULTS[1])
        scope = parse_scope(search_scope)
        if not isinstance(search_metadata, bool):  # callers outside the tools (a unit test)
            raise InvalidInput("search_metadata must be true or false.")
        session = await self._sessions.require_session(session_id)
        needle = text.lower().strip()

        candidates = await self._search.candidates(
            principal,
            SearchRequest(
                session_id=session.session_id,
                query=text,
                scope=scope,
                search_metadata=search_metadata,
                candidate_limit=self._candidate_limit,
            ),
        )
        budget = [SCORE_CHAR_BUDGET]
        candidates = within_budget(candidates, budget)
        scored = score_candidates(
            needle, candidates, search_metadata, threshold, self._normalised, keep=False, page=page
        )
        # Widen to the recent window when the index yields too few candidates to fill the page
        # (short queries) or none of them reaches the threshold (heavy typos). A verbatim hit
        # means the index saw the text as typed: nothing to widen for.
        widened = (len(candidates) < page or not scored) and not any(c.exact for c in candidates)
        considered = len(candidates)
        if widened:
            recent = await self._search.recent_visible(
                principal, session.session_id, scope=scope, window=self._fallback_window
            )
            seen = {c.id for c in candidates}
            fresh = within_budget([c for c in recent if c.id not in seen], budget)
            scored.extend(
                score_candidates(
                    needle, fresh, search_metadata, threshold, self._normalised, page=page
                )
            )
            considered += len(fresh)
        results = [self._result(needle, s) for s in rank(scored, needle, page)]
        return SearchResults(
            results=results,
            count=len(results),
            considered=considered,
            widened=widened,
            search_time_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    @staticmethod
    def _result(needle: str, scored: Scored) -> SearchHit:
        message = scored.candidate.message()
        if scored.in_metadata:
            values = metadata_strings(message.metadata)
            best = max(values, key=lambda v: score_text(needle, v.lower()))
            shown = preview(needle, best)
        else:
            shown = preview(needle, message.content)
        return SearchHit(
            message=message_shape(message),
            score=round(scored.score, 1),
            match_preview=shown,
            matched_in="metadata" if scored.in_metadata else "content",
        )

    # --- structured lookups -------------------------------------------------------------------
    async def by_sender(
        self,
        principal: Principal,
        session_id: str,
        sender: str,
        limit: int = 20,
        cursor: str | None = None,
    ) -> MessagePage:
        query = MessageQuery(
            session_id=session_id,
            sender=check_agent_id(sender, "sender"),
            limit=check_int(limit, "limit", low=SENDER_PAGE[0], high=SENDER_PAGE[1]),
            after_id=decode_cursor(cursor),
        )
        found, more = await self._messages.read(principal, query)
        return message_page(found, more)

    async def by_timerange(
        self,
        principal: Principal,
        session_id: str,
        start_time: str,
        end_time: str,
        limit: int = 50,
        cursor: str | None = None,
    ) -> MessagePage:
        since = parse_iso(start_time, "start_time")
        until = parse_iso(end_time, "end_time")
        if since > until:
            raise InvalidInput("start_time must not be after end_time.")
        query = MessageQuery(
            session_id=session_id,
            since=since,
            until=until,
            limit=check_int(limit, "limit", low=TIMERANGE_PAGE[0], high=TIMERANGE_PAGE[1]),
            after_id=decode_cursor(cursor),
        )
        found, more = await self._messages.read(principal, query)
        return message_page(found, more)
