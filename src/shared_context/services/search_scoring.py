"""Scoring and ranking the candidates of a search with RapidFuzz.

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

Only a page of results is returned, so the word-set pass, the dearer of the two, is asked only
for scores that could reach that page (``score_candidates``), and the tie-breaking term overlap
is computed only for ties inside it (``rank``): the page is exactly what scoring every
candidate fully and sorting them all would give.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from shared_context.services.search_text import NormalisedTexts, Words
from shared_context.storage.search import Candidate

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


def window_scores(query: str, texts: Sequence[str], cutoff: float) -> list[float]:
    """The window measure of every text (0 below ``cutoff``); RapidFuzz loops in C++."""
    scores = [0.0] * len(texts)
    # Long queries are phrases of many words: the word-set pass judges them, and the window
    # pass, whose cost grows with the query's length, is replaced by the whole-text ratio.
    scorer = fuzz.partial_ratio if len(query) <= WINDOW_MAX_QUERY else fuzz.ratio
    for _, score, index in process.extract(
        query, texts, scorer=scorer, limit=None, score_cutoff=cutoff
    ):
        text = texts[index]
        scores[index] = score if len(text) >= len(query) else fuzz.ratio(query, text)
    return scores


def raise_by_word_sets(
    query: str,
    texts: Sequence[str],
    scores: list[float],
    cutoff: float,
    words: Sequence[Words | None] | None = None,
    *,
    short_cutoff: float | None = None,
) -> None:
    """Raise ``scores`` to the word-set measure where that reaches ``cutoff`` (texts shorter
    than the query: ``short_cutoff``, default the same). ``words``: each text's distinct words
    (``Words.of``) or None when not known, to skip texts the pass cannot score at the cutoff
    (``word_set_reachable``); the scores are the same without."""
    if len(query.split()) < 2:  # one word: the best window decides
        return
    asked = Words.of(query)
    known: Sequence[Words | None] = words if words is not None else [None] * len(texts)
    low = cutoff if short_cutoff is None else short_cutoff
    for short, floor in ((False, cutoff), (True, low)):
        indices = [
            i
            for i, (text, its) in enumerate(zip(texts, known, strict=True))
            if (len(text) < len(query)) is short
            and (its is None or word_set_reachable(asked, its, floor))
        ]
        for _, score, position in process.extract(
            query,
            [texts[i] for i in indices],
            scorer=fuzz.token_set_ratio,
            limit=None,
            score_cutoff=floor,
        ):
            index = indices[position]
            # A text whose few words all occur in the query is no full match of it.
            value = fuzz.token_sort_ratio(query, texts[index]) if short else score
            scores[index] = max(scores[index], value)


def score_batch(
    query: str, texts: list[str], cutoff: float, words: list[Words | None] | None = None
) -> list[float]:
    """``score_text`` over many lower-cased texts at once, 0 where it is below ``cutoff``."""
    scores = window_scores(query, texts, cutoff)
    raise_by_word_sets(query, texts, scores, cutoff, words)
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
class Scored:
    candidate: Candidate
    score: float
    in_metadata: bool
    lowered: str  # the lower-cased content, for the term overlap
    overlap: int = 0

    def head(self) -> tuple[float, bool]:
        return (-self.score, not self.candidate.exact)

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
    left = budget[0]
    for candidate in candidates:
        row = candidate.row
        cost = len(row[4]) + len(row[6])
        if cost > left:
            break
        left -= cost
        kept.append(candidate)
    budget[0] = left
    return kept


def page_floor(content: list[float], meta: list[float], threshold: float, page: int) -> float:
    """The lowest score the page can end at, as far as the window measure already shows: at
    least ``page`` candidates score that much, so a candidate whose every measure stays below
    it is not on the page, whatever the word-set pass would give it."""
    best = sorted((max(c, m) for c, m in zip(content, meta, strict=True)), reverse=True)
    if len(best) < page or best[page - 1] < threshold:
        return threshold
    return best[page - 1]


def score_candidates(
    needle: str,
    candidates: list[Candidate],
    search_metadata: bool,
    threshold: float,
    normalised: NormalisedTexts | None = None,
    *,
    keep: bool = True,
    page: int | None = None,
) -> list[Scored]:
    """Score candidates on content and (optionally) metadata; keep those at the threshold.

    ``normalised`` caches each message's lower-cased texts across searches; ``keep``: store
    the misses (the recent window, scored search after search) or only look them up (index
    candidates, in a large session mostly different rows each search: storing them cost more
    than it saved, measured at 10,000 messages). ``page``: only the best ``page`` are wanted;
    every candidate that can be among them gets its exact score, the others may keep a lower
    one (never below the threshold when the exact one is at or above it, unless the page is
    already full of better ones)."""
    if not candidates:
        return []
    cache = normalised if normalised is not None else NormalisedTexts(len(candidates))
    normal = [cache.get(c.id, c.content, c.metadata_json, keep=keep) for c in candidates]
    lowered = [n.content for n in normal]
    several = len(needle.split()) > 1  # only the word-set pass needs the word sets
    content = window_scores(needle, lowered, threshold)
    meta = [0.0] * len(candidates)
    filled = [i for i, n in enumerate(normal) if n.metadata] if search_metadata else []
    meta_texts = [normal[i].metadata for i in filled]
    if filled:
        for i, score in zip(filled, window_scores(needle, meta_texts, threshold), strict=True):
            meta[i] = score
    if several:
        floor = threshold if page is None else page_floor(content, meta, threshold, page)
        raise_by_word_sets(
            needle,
            lowered,
            content,
            floor,
            [n.content_words if n.reused else None for n in normal],
            short_cutoff=threshold,
        )
        if filled:
            raised = [meta[i] for i in filled]
            raise_by_word_sets(
                needle,
                meta_texts,
                raised,
                floor,
                [normal[i].metadata_words if normal[i].reused else None for i in filled],
                short_cutoff=threshold,
            )
            for i, score in zip(filled, raised, strict=True):
                meta[i] = score
    kept = []
    for i, candidate in enumerate(candidates):
        best = max(content[i], meta[i])
        if best >= threshold:
            kept.append(Scored(candidate, best, meta[i] > content[i], lowered[i]))
    return kept


def rank(scored: list[Scored], needle: str, page: int) -> list[Scored]:
    """The best ``page`` in the order of ``Scored.key``; the term overlap (a tie-breaker, and
    the dearest part of the key) is computed only for ties the page reaches."""
    scored.sort(key=Scored.head)
    overlap = TermOverlap(needle)
    out: list[Scored] = []
    start = 0
    while start < len(scored) and len(out) < page:
        end = start + 1
        head = scored[start].head()
        while end < len(scored) and scored[end].head() == head:
            end += 1
        group = scored[start:end]
        if len(group) > 1:
            for item in group:
                item.overlap = overlap(item.lowered)
            group.sort(key=Scored.key)
        out.extend(group)
        start = end
    return out[:page]
