"""Search over a session's messages: fuzzy text search, by sender, by time range.

``search_context`` runs in two stages. The storage backend's full-text index narrows the
session to a bounded set of candidates (``storage.search.SearchStore``), already filtered by
visibility and scope in its query; RapidFuzz then scores each candidate's content (and the
string values of its metadata) against the query. When the index yields fewer candidates
than the page or none that reaches the threshold, and no message held the query verbatim,
the most recent visible messages (a bounded window) are scored as well: short queries and
heavy typos still find recent matches, and small sessions behave like an exhaustive search.

The scorer is the maximum of two RapidFuzz measures on lower-cased text (chosen by measured
precision on the relevance corpus, see ``bench/search.py``):

- ``partial_ratio``: the best-aligned window of the text; finds typos ("colaboration") and
  partial phrases inside long messages. Used only when the text is at least as long as the
  query (a two-word message is not a 100 % match of a long query) and the query is at most
  64 characters (beyond, RapidFuzz's window search gets slow and the word sets judge better);
  otherwise ``ratio``.
- ``token_set_ratio``, for queries of several words: word sets; finds reordered words
  ("schema database design"). For a text shorter than the query, ``token_sort_ratio``
  (a text whose few words all occur in the query is no full match of it).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

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
from shared_context.services.search_text import NormalisedTexts, Words, metadata_strings
from shared_context.services.sessions import SessionService
from shared_context.storage.search import Candidate, SearchRequest, SearchScope, SearchStore

PREVIEW_MAX_CHARS = 200
ELLIPSIS = "…"
WORD_EDGES = ".,;:!?()[]{}<>\"'`"
SCORE_CHAR_BUDGET = 1_000_000  # characters scored per search, candidates and window together
WINDOW_MAX_QUERY = 64  # longer queries skip partial_ratio (RapidFuzz's slow path beyond 64)


def score_text(query: str, text: str) -> float:
    """Similarity 0-100 of a lower-cased query and a lower-cased text."""
    if not text:
        return 0.0
    partial = len(query) <= WINDOW_MAX_QUERY and len(text) >= len(query)
    window = fuzz.partial_ratio(query, text) if partial else fuzz.ratio(query, text)
    if len(query.split()) < 2:
        return window
    words = fuzz.token_set_ratio if len(text) >= len(query) else fuzz.token_sort_ratio
    return max(window, words(query, text))


def preview(query: str, text: str, max_chars: int = PREVIEW_MAX_CHARS) -> str:
    """At most ``max_chars`` of ``text`` around its best match for ``query``."""
    if len(text) <= max_chars:
        return text
    lowered = text.lower()
    if len(lowered) != len(text):  # case folding changed lengths: align on the original
        lowered = text
    aligned = fuzz.partial_ratio_alignment(query, lowered)
    middle = (aligned.dest_start + aligned.dest_end) // 2 if aligned else 0
    body = max_chars - 2  # room for an ellipsis on each side
    start = max(0, min(middle - body // 2, len(text) - body))
    snippet = text[start : start + body]
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if start + body < len(text) else ""
    return prefix + snippet + suffix


def score_batch(
    query: str, texts: list[str], cutoff: float, words: list[Words | None] | None = None
) -> list[float]:
    """``score_text`` over many lower-cased texts at once (RapidFuzz loops in C++).

    ``words``: each text's distinct words (``Words.of``) or None when not known, to skip the
    word-set pass on texts it cannot score at the cutoff (see ``word_set_reachable``); results
    are the same without."""
    scores = [0.0] * len(texts)
    if len(query.split()) > 1:  # one word: the best window decides, skip the word-set pass
        indices = list(range(len(texts)))
        if words is not None:
            asked = Words.of(query)
            indices = [
                i
                for i in indices
                if (known := words[i]) is None or word_set_reachable(asked, known, cutoff)
            ]
        for _, score, position in process.extract(
            query,
            [texts[i] for i in indices],
            scorer=fuzz.token_set_ratio,
            limit=None,
            score_cutoff=cutoff,
        ):
            index = indices[position]
            # A text whose few words all occur in the query is no full match of it.
            short = len(texts[index]) < len(query)
            scores[index] = fuzz.token_sort_ratio(query, texts[index]) if short else score
    # Long queries are phrases of many words: the word-set pass judges them, and the window
    # pass, whose cost grows with the query's length, is replaced by the whole-text ratio.
    window_scorer = fuzz.partial_ratio if len(query) <= WINDOW_MAX_QUERY else fuzz.ratio
    for _, score, index in process.extract(
        query, texts, scorer=window_scorer, limit=None, score_cutoff=cutoff
    ):
        window = score if len(texts[index]) >= len(query) else fuzz.ratio(query, texts[index])
        scores[index] = max(scores[index], window)
    return scores


def word_set_reachable(query: Words, text: Words, cutoff: float) -> bool:
    """Whether ``token_set_ratio`` can reach ``cutoff`` for this text. With no word in common
    it is the indel ratio of the two joined word sets, at most ``200 * shorter / (sum of the
    lengths)`` (an indel distance is at least the length difference); a text of many words
    none of which the query shares cannot reach it. Conservative by a margin: never skips a
    text that could score."""
    if cutoff <= 0 or not query.distinct.isdisjoint(text.distinct):
        return True
    total = query.joined_length + text.joined_length
    if total == 0:
        return False
    bound = 200.0 * min(query.joined_length, text.joined_length) / total
    return bound >= cutoff - 0.5


@dataclass(slots=True)
class _Scored:
    candidate: Candidate
    score: float
    in_metadata: bool
    overlap: int

    def key(self) -> tuple[float, bool, int, float, int]:
        # Best first: fuzzy score, then messages holding every term verbatim, then how well
        # the query terms appear (whole words beat substrings), then the backend's text rank
        # (smaller is better), then recency.
        c = self.candidate
        return (-self.score, not c.exact, -self.overlap, c.text_rank, -c.id)


class TermOverlap:
    """Text relevance for ties: 2 per query term present as a whole word, 1 as a substring."""

    def __init__(self, needle: str) -> None:
        self._terms = needle.split()
        self._patterns: dict[str, re.Pattern[str]] = {}  # compiled on a term's first hit

    def _whole(self, term: str) -> re.Pattern[str]:
        pattern = self._patterns.get(term)
        if pattern is None:
            edge = "[\\s" + re.escape(WORD_EDGES) + "]"
            pattern = re.compile(f"(?:^|{edge}){re.escape(term)}(?:$|{edge})")
            self._patterns[term] = pattern
        return pattern

    def __call__(self, text: str) -> int:
        total = 0
        for term in self._terms:
            if term in text:  # cheap test first; the pattern only runs on a hit
                total += 2 if self._whole(term).search(text) else 1
        return total


def within_budget(candidates: list[Candidate], budget: list[int]) -> list[Candidate]:
    """The leading candidates whose text fits the remaining character budget (shared through
    the one-element list), so a session of maximum-size messages cannot make one search
    score megabytes. Candidates come best-first (exact hits, then newest), so the cut drops
    the least likely."""
    kept = []
    for candidate in candidates:
        cost = len(candidate.content) + len(candidate.metadata_json)
        if cost > budget[0]:
            break
        budget[0] -= cost
        kept.append(candidate)
    return kept


def score_candidates(
    needle: str,
    candidates: list[Candidate],
    search_metadata: bool,
    threshold: float,
    normalised: NormalisedTexts | None = None,
    *,
    keep: bool = True,
) -> list[_Scored]:
    """Score candidates on content and (optionally) metadata; keep those at the threshold.
    ``normalised`` caches each message's lower-cased texts across searches; ``keep``: store
    the misses (the recent window, scored search after search) or only look them up (index
    candidates, in a large session mostly different rows each search: storing them cost more
    than it saved, measured at 10,000 messages)."""
    if not candidates:
        return []
    cache = normalised if normalised is not None else NormalisedTexts(len(candidates))
    normal = [cache.get(c.id, c.content, c.metadata_json, keep=keep) for c in candidates]
    lowered_content = [n.content for n in normal]
    several = len(needle.split()) > 1  # only the word-set pass needs the word sets
    content = score_batch(
        needle,
        lowered_content,
        threshold,
        [n.content_words if n.reused else None for n in normal] if several else None,
    )
    meta = [0.0] * len(candidates)
    if search_metadata:
        filled = [i for i, n in enumerate(normal) if n.metadata]
        batch = score_batch(
            needle,
            [normal[i].metadata for i in filled],
            threshold,
            [normal[i].metadata_words if normal[i].reused else None for i in filled]
            if several
            else None,
        )
        for i, score in zip(filled, batch, strict=True):
            meta[i] = score
    overlap = TermOverlap(needle)
    kept = []
    for i, candidate in enumerate(candidates):
        best = max(content[i], meta[i])
        if best >= threshold:
            lowered = lowered_content[i]
            kept.append(
                _Scored(
                    candidate=candidate,
                    score=best,
                    in_metadata=meta[i] > content[i],
                    overlap=overlap(lowered),
                )
            )
    return kept


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
            needle, candidates, search_metadata, threshold, self._normalised, keep=False
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
                score_candidates(needle, fresh, search_metadata, threshold, self._normalised)
            )
            considered += len(fresh)
        scored.sort(key=_Scored.key)
        results = [self._result(needle, s) for s in scored[:page]]
        return SearchResults(
            results=results,
            count=len(results),
            considered=considered,
            widened=widened,
            search_time_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    @staticmethod
    def _result(needle: str, scored: _Scored) -> SearchHit:
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
