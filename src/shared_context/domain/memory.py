"""Agent memory: what a valid key, lifetime and value are, and the entry value object.

Keys are opaque: stored and compared exactly as given (no Unicode normalisation, no case
folding), so two keys that merely look alike are two keys. A key is never matched across
owners: the owner is part of every lookup.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from shared_context.domain.bounds import MEMORY_EXPIRES_SECONDS, MEMORY_KEY_MAX_CHARS
from shared_context.domain.clock import iso
from shared_context.domain.errors import Conflict, ErrorCode, InvalidInput, LimitExceeded, NotFound
from shared_context.domain.validation import dumps, json_depth_ok

KEY_MAX_CHARS = MEMORY_KEY_MAX_CHARS
EXPIRES_MIN_SECONDS, EXPIRES_MAX_SECONDS = MEMORY_EXPIRES_SECONDS
VALUE_MAX_DEPTH = 64
GLOBAL = "global"
SESSION = "session"
ALL_SCOPES = "all"

# Unicode categories refused in keys: control characters and lone surrogates.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def check_key(value: object, field_name: str = "key", *, allow_empty: bool = False) -> str:
    """1-255 characters, no whitespace, no control characters; returned unchanged."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field_name} must be a string.")
    if not (0 if allow_empty else 1) <= len(value) <= KEY_MAX_CHARS:
        raise InvalidInput(f"{field_name} must be 1-{KEY_MAX_CHARS} characters; got {len(value)}.")
    for ch in value:
        if ch.isspace() or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise InvalidInput(
                f"{field_name} must not contain whitespace or control characters "
                f"(found U+{ord(ch):04X}); use e.g. '_', '.', ':' or '/' as separators."
            )
    return value


def check_expires_in(value: object) -> int | None:
    """Lifetime in whole seconds, 1 s to 1 year; None means the entry does not expire."""
    if value is None:
        return None
    message = (
        f"expires_in must be a whole number of seconds from {EXPIRES_MIN_SECONDS} "
        f"to {EXPIRES_MAX_SECONDS} (1 year), or omitted for no expiry."
    )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(message)
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise InvalidInput(message)
    seconds = int(value)
    if not EXPIRES_MIN_SECONDS <= seconds <= EXPIRES_MAX_SECONDS:
        raise InvalidInput(message)
    return seconds


def check_if_version(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**62:
        raise InvalidInput(
            "if_version must be the version you last read (0 means the key must not exist)."
        )
    return value


def encode_value(value: object, max_bytes: int) -> str:
    """The value serialised as compact JSON, refused when too deep, too big or not JSON."""
    if not json_depth_ok(value, VALUE_MAX_DEPTH):
        raise InvalidInput(f"value is nested deeper than {VALUE_MAX_DEPTH} levels.")
    try:
        text = dumps(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput("value must be a JSON value (no NaN or Infinity).") from exc
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidInput("value contains a lone surrogate; send valid Unicode.") from exc
    if size > max_bytes:
        raise InvalidInput(
            f"value is {size} bytes serialised; at most {max_bytes} allowed. "
            "Store large data elsewhere and keep a reference in memory."
        )
    return text


def memory_not_found(key: str) -> NotFound:
    # The same words whether the key never existed, expired or belongs to someone else.
    return NotFound(
        f"No memory entry {key[:80]!r} in this scope (it may have expired or been deleted).",
        code=ErrorCode.MEMORY_NOT_FOUND,
    )


def scope_name(session_id: str | None) -> str:
    return SESSION if session_id else GLOBAL


@dataclass(frozen=True, slots=True)
class MemoryEntry:
    id: int
    agent_id: str
    session_id: str | None
    key: str
    value_json: str
    metadata: dict[str, Any]
    size_bytes: int
    version: int
    created_at: float
    updated_at: float
    expires_at: float | None

    @property
    def value(self) -> Any:
        return json.loads(self.value_json)

    def summary(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "scope": scope_name(self.session_id),
            "session_id": self.session_id,
            "version": self.version,
            "expires_at": iso(self.expires_at),
            "size_bytes": self.size_bytes,
            "updated_at": iso(self.updated_at),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "scope": scope_name(self.session_id),
            "session_id": self.session_id,
            "version": self.version,
            "expires_at": iso(self.expires_at),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "metadata": self.metadata,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True, slots=True)
class MemoryWrite:
    """One set_memory request, checked and ready for storage to apply atomically."""

    agent_id: str
    session_id: str | None
    key: str
    value_json: str
    size_bytes: int
    metadata: dict[str, Any]
    now: float
    expires_at: float | None
    max_entries: int
    max_bytes: int
    overwrite: bool = True
    if_version: int | None = None


# --- rules decided over rows the adapters fetch (inside their write transaction) ------------
def check_write_preconditions(write: MemoryWrite, current_version: int | None) -> None:
    """overwrite and compare-and-set: ``current_version`` is the live entry's, None if none."""
    scope = scope_name(write.session_id)
    if current_version is not None and not write.overwrite:
        raise Conflict(
            f"Memory key {write.key[:80]!r} already exists in {scope} scope (version "
            f"{current_version}); pass overwrite=true to replace it.",
            code=ErrorCode.KEY_EXISTS,
            details={"current_version": current_version},
        )
    if write.if_version is None:
        return
    if (write.if_version == 0 and current_version is None) or write.if_version == current_version:
        return
    have = "does not exist" if current_version is None else f"is at version {current_version}"
    raise Conflict(
        f"Memory key {write.key[:80]!r} {have}, not version {write.if_version}; read it again "
        "and retry with the current version.",
        code=ErrorCode.VERSION_CONFLICT,
        details={"current_version": current_version},
    )


def check_quota(write: MemoryWrite, entries: int, used: int, replaced_size: int | None) -> None:
    """The owner's quotas over its live ``entries`` and ``used`` bytes; ``replaced_size`` is
    the size of the live entry this write replaces (None when it creates one)."""
    if replaced_size is None and entries + 1 > write.max_entries:
        raise LimitExceeded(
            f"Memory quota reached: {entries} entries of {write.max_entries} allowed per agent. "
            "Delete entries you no longer need or let them expire.",
            code=ErrorCode.QUOTA_EXCEEDED,
            details={"entries": entries, "max_entries": write.max_entries},
        )
    old_size = replaced_size or 0
    total = used - old_size + write.size_bytes
    if total > write.max_bytes and write.size_bytes > old_size:
        raise LimitExceeded(
            f"Memory quota reached: this write would use {total} bytes of {write.max_bytes} "
            "allowed per agent. Delete entries you no longer need or store less.",
            code=ErrorCode.QUOTA_EXCEEDED,
            details={"bytes": used, "max_bytes": write.max_bytes},
        )
