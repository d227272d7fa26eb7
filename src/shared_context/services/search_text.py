"""Normalised search text per message, cached: the lower-cased content and metadata strings.

Scoring a search lower-cases every candidate's content and parses its metadata JSON to join
its string values. The same messages are candidates of many searches (the recent window is
scored whenever a search widens), so the normalised pair is kept per message id. A message's
content and metadata never change after it is written (only its visibility does, and the
candidate query filters visibility), yet an entry is used only when the stored raw text is
equal to the row's, so a reused id or an edited row can never be scored on stale text.

Bounded twice: by entries and by the characters held (raw and normalised), least recently
used out first. Visibility is never decided here: the cache only ever sees rows the
candidate query already returned to this viewer, and it returns text, never rows.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

METADATA_MAX_STRINGS = 200
DEFAULT_MAX_ENTRIES = 5_000
DEFAULT_MAX_CHARS = 4_000_000


def metadata_strings(value: Any, limit: int = METADATA_MAX_STRINGS) -> list[str]:
    """The string values of a metadata object, depth first, at most ``limit`` of them."""
    found: list[str] = []
    stack: list[Any] = [value]
    while stack and len(found) < limit:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def metadata_text(metadata_json: str) -> str:
    """The string values of stored metadata, joined: what the index matched too."""
    if metadata_json in ("", "{}"):
        return ""
    try:
        return " ".join(metadata_strings(json.loads(metadata_json)))
    except ValueError:
        return ""


@dataclass(frozen=True, slots=True)
class Words:
    """A text's distinct words (RapidFuzz splits on whitespace as ``str.split`` does) and the
    length of those words joined by single spaces: what ``token_set_ratio`` compares."""

    distinct: frozenset[str]
    joined_length: int

    @classmethod
    def of(cls, text: str) -> Words:
        distinct = frozenset(text.split())
        joined = sum(map(len, distinct)) + max(0, len(distinct) - 1)
        return cls(distinct, joined)


class Normalised:
    """A message's lower-cased content and metadata text; their word sets on first use (only
    multi-word queries need them)."""

    __slots__ = ("_content_words", "_metadata_words", "content", "metadata", "reused")

    def __init__(self, content: str, metadata: str) -> None:
        self.content = content  # lower-cased content
        self.metadata = metadata  # lower-cased metadata string values, joined
        self._content_words: Words | None = None
        self._metadata_words: Words | None = None
        # Whether a later search found it in the cache: word sets pay for themselves only
        # on reuse (building them costs about what the word-set pass they can skip costs).
        self.reused = False

    @property
    def content_words(self) -> Words:
        if self._content_words is None:
            self._content_words = Words.of(self.content)
        return self._content_words

    @property
    def metadata_words(self) -> Words:
        if self._metadata_words is None:
            self._metadata_words = Words.of(self.metadata)
        return self._metadata_words

    def size(self) -> int:
        """Characters held, the word sets counted as a copy of the text."""
        return 2 * (len(self.content) + len(self.metadata))


class NormalisedTexts:
    """Per message id: (raw content, raw metadata JSON) -> (lowered content, lowered metadata
    text). Used from the event loop only (no lock)."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, max_chars: int = DEFAULT_MAX_CHARS
    ) -> None:
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._chars = 0
        # id -> (raw content, raw metadata JSON, normalised): raw text is the validity check.
        self._data: OrderedDict[int, tuple[str, str, Normalised]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def chars(self) -> int:
        """Characters held, raw and normalised (word sets counted as a copy of the text)."""
        return self._chars

    def get(
        self, message_id: int, content: str, metadata_json: str, *, keep: bool = True
    ) -> Normalised:
        """The normalised texts of a message, from the cache when its raw text is unchanged;
        a miss is kept only with ``keep`` (rows likely to be scored again)."""
        entry = self._data.get(message_id)
        if entry is not None and entry[0] == content and entry[1] == metadata_json:
            self._data.move_to_end(message_id)
            self.hits += 1
            entry[2].reused = True
            return entry[2]
        self.misses += 1
        lowered = content.lower()
        meta = metadata_text(metadata_json).lower()
        normalised = Normalised(lowered, meta)
        if keep:
            self._store(message_id, (content, metadata_json, normalised))
        return normalised

    @staticmethod
    def _size(entry: tuple[str, str, Normalised]) -> int:
        return len(entry[0]) + len(entry[1]) + entry[2].size()

    def _store(self, message_id: int, entry: tuple[str, str, Normalised]) -> None:
        size = self._size(entry)
        if size > self._max_chars // 4:  # one huge message never flushes the whole cache
            return
        old = self._data.pop(message_id, None)
        if old is not None:
            self._chars -= self._size(old)
        self._data[message_id] = entry
        self._chars += size
        while len(self._data) > self._max_entries or self._chars > self._max_chars:
            _, dropped = self._data.popitem(last=False)
            self._chars -= self._size(dropped)
