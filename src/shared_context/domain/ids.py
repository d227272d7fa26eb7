"""Identifier formats: what a valid agent id, session id or memory key looks like."""

from __future__ import annotations

import re
import secrets

from shared_context.domain.bounds import (
    AGENT_ID_MAX_CHARS,
    AGENT_TYPE_MAX_CHARS,
    IDEMPOTENCY_KEY_MAX_CHARS,
)
from shared_context.domain.errors import InvalidInput, session_not_found

AGENT_ID_RE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.\-]{{0,{AGENT_ID_MAX_CHARS - 1}}}$")
AGENT_TYPE_RE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.\-]{{0,{AGENT_TYPE_MAX_CHARS - 1}}}$")
SESSION_ID_RE = re.compile(r"^session_[a-f0-9]{16}$")
IDEMPOTENCY_KEY_RE = re.compile(rf"^[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_CHARS}}}$")


def new_session_id() -> str:
    return "session_" + secrets.token_hex(8)


def check_agent_id(value: object, field: str = "agent_id") -> str:
    if not isinstance(value, str) or not AGENT_ID_RE.fullmatch(value):
        raise InvalidInput(
            f"{field} must be 1-{AGENT_ID_MAX_CHARS} characters of letters, digits, '_', '.' "
            "or '-', starting with a letter or digit."
        )
    return value


def check_agent_type(value: object) -> str:
    if not isinstance(value, str) or not AGENT_TYPE_RE.fullmatch(value):
        raise InvalidInput(
            f"agent_type must be 1-{AGENT_TYPE_MAX_CHARS} characters of letters, digits, '_', "
            "'.' or '-' (for example 'claude', 'gemini', 'codex')."
        )
    return value


def check_session_id(value: object) -> str:
    """A malformed id answers like a missing session: ids are not a validation oracle."""
    if not isinstance(value, str) or not SESSION_ID_RE.fullmatch(value):
        raise session_not_found(str(value)[:40])
    return value


def check_idempotency_key(value: object) -> str:
    if not isinstance(value, str) or not IDEMPOTENCY_KEY_RE.fullmatch(value):
        raise InvalidInput(
            f"idempotency_key must be 1-{IDEMPOTENCY_KEY_MAX_CHARS} printable ASCII characters, "
            "no spaces."
        )
    return value
