"""Query terms and trigrams for the candidate stage, the same on both backends (FTS5 trigram
tokenizer on SQLite, ``pg_trgm`` on PostgreSQL)."""

from __future__ import annotations

import unicodedata
from collections.abc import Generator
from typing import Any

MIN_TERM = 3
MAX_TERMS = 12
MAX_TRIGRAMS = 24
MAX_LONG_PROBES = 6
EXACT_ANCHORS = 3


def query_terms(query: str) -> list[str]:
    """Distinct lower-cased terms of at least three characters, in query order (bounded).
    Control and separator characters (NUL included) split terms and never reach FTS5."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs", "Zs", "Zl", "Zp") else ch
        for ch in query.lower()
    )
    terms: list[str] = []
    for word in cleaned.split():
        if len(word) >= MIN_TERM and word not in terms:
            terms.append(word)
            if len(terms) == MAX_TERMS:
                break
    return terms


def trigrams(term: str) -> list[str]:
    return [term[i : i + MIN_TERM] for i in range(len(term) - MIN_TERM + 1)]


def query_trigrams(terms: list[str]) -> list[str]:
    """Distinct trigrams of the terms, taken round-robin so every term is represented."""
    per_term = [trigrams(t) for t in terms]
    found: list[str] = []
    for position in range(max((len(t) for t in per_term), default=0)):
        for grams in per_term:
            if position < len(grams) and grams[position] not in found:
                found.append(grams[position])
    return found[:MAX_TRIGRAMS]


def longer_pieces(terms: list[str]) -> list[str]:
    """Halves of long terms, then the terms: tried when their trigrams are all too common."""
    pieces: list[str] = []
    for term in terms:
        if len(term) >= 2 * MIN_TERM:
            half = len(term) // 2
            pieces.extend((term[:half], term[half:]))
    pieces.extend(t for t in terms if len(t) > MIN_TERM)
    return list(dict.fromkeys(pieces))


def holds_all(row: tuple[Any, ...], terms: list[str], content_only: bool) -> bool:
    """Whether the message holds every term verbatim (content, or raw metadata JSON)."""
    content = str(row[4]).lower()
    metadata = "" if content_only else str(row[6]).lower()
    return all(t in content or t in metadata for t in terms)


class CommonPieces:
    """Pieces known to match more index documents than the probe cap, per match column set.

    Messages are never deleted or edited, so a piece's document count only grows: once above
    the cap it stays above, in this process and whatever other processes add. Remembering the
    verdict skips the probe that proves it again (a common trigram's probe reads ``cap + 1``
    postings, the dearest part of the candidate stage) and chooses exactly the same pieces.
    Bounded: the oldest verdicts are dropped first; a dropped one is only probed again."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._max = max(1, max_entries)
        self._known: dict[tuple[str, bool], None] = {}

    def __contains__(self, key: tuple[str, bool]) -> bool:
        return key in self._known

    def __len__(self) -> int:
        return len(self._known)

    def add(self, key: tuple[str, bool]) -> None:
        if key in self._known:
            return
        if len(self._known) >= self._max:
            del self._known[next(iter(self._known))]
        self._known[key] = None


class PieceCounts:
    """Document counts of pieces at one state of the index, named by the caller (SQLite: the
    largest message id — messages are never deleted or edited and each new one takes the next
    id, so an equal largest id means the very same indexed rows, whichever process wrote them).

    Searches ask for many of the same trigrams ("ing", "err", "tio"); while no message is
    added, a count already probed is the count a new probe would read, so it is reused. The
    memory holds one state: a newer state starts it empty, a search on an older snapshot (or
    with no state) gets a private, empty one. Bounded by entries; beyond, counts are only not
    remembered. Used from reader threads: a dict's get and set are atomic under the GIL, and
    a search keeps the dict of the state it read even if another one starts a newer state."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._max = max(1, max_entries)
        self._state: int | None = None
        self._counts: dict[tuple[str, bool], int] = {}

    def at(self, state: int | None) -> KnownCounts:
        if state is None or (self._state is not None and state < self._state):
            return KnownCounts({}, self._max)
        if state != self._state:
            self._state, self._counts = state, {}
        return KnownCounts(self._counts, self._max)


class KnownCounts:
    """The counts known at one index state (``PieceCounts.at``)."""

    __slots__ = ("_counts", "_max")

    def __init__(self, counts: dict[tuple[str, bool], int], max_entries: int) -> None:
        self._counts = counts
        self._max = max_entries

    def get(self, key: tuple[str, bool]) -> int | None:
        return self._counts.get(key)

    def put(self, key: tuple[str, bool], count: int) -> None:
        if len(self._counts) < self._max:
            self._counts[key] = count


def choose_rare(
    terms: list[str],
    *,
    content_only: bool,
    probe_cap: int,
    budget: int,
    common: CommonPieces,
    counts: dict[str, int] | None = None,
    known: KnownCounts | None = None,
) -> Generator[str, int, list[str]]:
    """The most selective pieces whose document counts together fit ``budget``: the rule both
    backends share, written without I/O. It yields each piece whose document count (capped at
    ``probe_cap + 1``) it needs and is sent that count; it returns the chosen pieces. A longer
    piece matches a subset of each of its trigrams' documents, so it is probed only when every
    one of its trigrams is too common to use. ``counts`` receives every count it used;
    ``known``: counts already probed at the same index state, asked before yielding (and
    given every count it is sent)."""
    seen = counts if counts is not None else {}
    memory = known if known is not None else KnownCounts({}, 0)

    def count_of(piece: str) -> Generator[str, int, int]:
        """The piece's count: remembered at this state, or asked for (and remembered)."""
        key = (piece, content_only)
        count = memory.get(key)
        if count is None:
            count = yield piece
            memory.put(key, count)
        seen[piece] = count
        if count > probe_cap:
            common.add(key)
        return count

    counted: list[tuple[int, int, str]] = []
    too_common: set[str] = set()
    for order, gram in enumerate(query_trigrams(terms)):
        if (gram, content_only) in common:
            too_common.add(gram)
            continue
        count = yield from count_of(gram)
        if count > probe_cap:
            too_common.add(gram)
        elif count:
            counted.append((count, order, gram))
    probes = 0
    for order, piece in enumerate(longer_pieces(terms), start=len(counted) + len(too_common)):
        if probes < MAX_LONG_PROBES and all(g in too_common for g in trigrams(piece)):
            probes += 1
            if (piece, content_only) in common:
                continue
            count = yield from count_of(piece)
            if 0 < count <= probe_cap:
                counted.append((count, order, piece))
    counted.sort()
    chosen: list[str] = []
    spent = 0
    for count, _, piece in counted:
        if spent + count > budget:
            break
        chosen.append(piece)
        spent += count
    return chosen


def absent(term: str, counts: dict[str, int]) -> bool:
    """Whether a probe found a trigram of ``term`` in no indexed document at all: then no
    message contains the term, and an AND over it matches nothing (a typo usually makes one)."""
    return any(counts.get(gram) == 0 for gram in trigrams(term))
