"""Query terms and trigrams for the candidate stage, the same on both backends (FTS5 trigram
tokenizer on SQLite, ``pg_trgm`` on PostgreSQL)."""

from __future__ import annotations

import unicodedata
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
