"""Bounds on caller-supplied values: text, metadata, limits and cursors."""

from __future__ import annotations

import json
import math
from typing import Any

from shared_context.domain.errors import InvalidInput

METADATA_MAX_KEYS = 50
METADATA_MAX_BYTES = 10_000
MAX_JSON_DEPTH = 32
MAX_CURSOR_POSITION = 2**62  # storage integers are 64-bit; larger values cannot be compared


def json_depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Iterative depth check, so hostile nesting cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > limit:
                return False
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            if depth > limit:
                return False
            stack.extend((v, depth + 1) for v in item)
    return True


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def check_metadata(value: object, field: str = "metadata") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be a JSON object.")
    if len(value) > METADATA_MAX_KEYS:
        raise InvalidInput(f"{field} has {len(value)} keys; at most {METADATA_MAX_KEYS} allowed.")
    if not json_depth_ok(value):
        raise InvalidInput(f"{field} is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        size = len(dumps(value).encode())
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field} must hold only JSON values (no NaN or Infinity).") from exc
    if size > METADATA_MAX_BYTES:
        raise InvalidInput(
            f"{field} is {size} bytes serialised; at most {METADATA_MAX_BYTES} allowed."
        )
    return value


def check_text(value: object, field: str, *, max_chars: int, min_chars: int = 1) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.")
    if not min_chars <= len(value) <= max_chars:
        raise InvalidInput(f"{field} must be {min_chars}-{max_chars} characters; got {len(value)}.")
    if min_chars and not value.strip():
        raise InvalidInput(f"{field} must not be blank.")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            # A lone surrogate (e.g. "\ud800") cannot be stored as UTF-8 text.
            raise InvalidInput(f"{field} must be valid Unicode text (no lone surrogates).") from exc
    return value


def check_int(value: object, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{field} must be an integer from {low} to {high}.")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise InvalidInput(f"{field} must be an integer from {low} to {high}.")
    number = int(value)
    if not low <= number <= high:
        raise InvalidInput(f"{field} must be from {low} to {high}; got {number}.")
    return number


def encode_cursor(position: int) -> str:
    return f"c{position}"


def decode_cursor(cursor: object) -> int | None:
    if cursor is None or cursor == "":
        return None
    if (
        isinstance(cursor, str)
        and cursor.startswith("c")
        and len(cursor) <= 20
        and cursor[1:].isascii()
        and cursor[1:].isdigit()
        and int(cursor[1:]) <= MAX_CURSOR_POSITION
    ):
        return int(cursor[1:])
    raise InvalidInput("cursor is not one this server issued; pass next_cursor back unchanged.")
