"""The storage interface of search: the candidate stage and the fallback window.

Search runs in two stages. A backend's full-text index (SQLite FTS5 with the trigram
tokenizer; PostgreSQL ``pg_trgm``) narrows a session's messages to a bounded set of
candidates; the service then scores those with RapidFuzz. Every method takes the viewer and
applies ``domain.visibility.sql_filter`` inside its query, so a message the viewer may not see
never leaves the database. Sender and time-range lookups reuse ``Store.get_messages``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from shared_context.domain.models import Message, Principal
from shared_context.storage import rows


class SearchScope(StrEnum):
    ALL = "all"  # every message the viewer may see
    PUBLIC = "public"  # only public messages
    PRIVATE = "private"  # only the viewer's own private messages


def scope_sql(viewer: Principal, scope: SearchScope, *, alias: str = "m") -> tuple[str, list[Any]]:
    """The extra condition a scope adds on top of the visibility filter (never instead of it)."""
    if scope is SearchScope.PUBLIC:
        return f"{alias}.visibility = 'public'", []
    if scope is SearchScope.PRIVATE:
        return f"({alias}.visibility = 'private' AND {alias}.sender = ?)", [viewer.agent_id]
    return "1 = 1", []


@dataclass(frozen=True, slots=True)
class SearchRequest:
    session_id: str
    query: str
    scope: SearchScope = SearchScope.ALL
    search_metadata: bool = True
    candidate_limit: int = 500


@dataclass(frozen=True, slots=True)
class Candidate:
    """A visible message the index considers relevant, kept as its raw row so that scoring
    hundreds of them costs no JSON parsing; ``message()`` builds the full value for results.

    ``row``: id, session_id, sender, sender_type, content, visibility, metadata (JSON text),
    parent_message_id, created_at. ``exact``: the message contains every query term (of
    three or more characters) verbatim. ``text_rank``: the backend's own text relevance,
    smaller is better, 0.0 when it has none (a tie-breaker only).
    """

    row: tuple[Any, ...]
    exact: bool = False
    text_rank: float = 0.0

    @property
    def id(self) -> int:
        return int(self.row[0])

    @property
    def content(self) -> str:
        return str(self.row[4])

    @property
    def metadata_json(self) -> str:
        return str(self.row[6])

    def message(self) -> Message:
        return rows.message(self.row)


class SearchStore(Protocol):
    async def candidates(self, viewer: Principal, request: SearchRequest) -> list[Candidate]:
        """At most ``request.candidate_limit`` visible, in-scope messages of the session that
        the index finds relevant to the query, in no particular order. Queries are plain text: no
        character in them may cause a syntax error."""
        ...

    async def recent_visible(
        self, viewer: Principal, session_id: str, *, scope: SearchScope, window: int
    ) -> list[Candidate]:
        """The ``window`` most recent messages of the session the viewer may see (in scope),
        newest first: the fallback when the index yields too few candidates."""
        ...
