"""Keys bound to agents: which agent ids a key may act as.

A binding is a tuple of patterns: an exact agent id (``alice``) or a prefix ending in ``*``
(``claude-*``). Agent ids never contain ``*``, so the two cannot be confused. An empty
binding is a team key: any agent id. The rule is decided here, once, for every path that
turns a key into an identity (authenticate_agent, connection headers, stdio environment).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared_context.domain.errors import ErrorCode, InvalidInput, PermissionDenied

MAX_PATTERNS = 100
PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,98}\*$")
EXACT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")


def parse_binding(patterns: Iterable[str]) -> tuple[str, ...]:
    """Validate and normalise (sorted, unique) a binding."""
    found: set[str] = set()
    for raw in patterns:
        value = raw.strip() if isinstance(raw, str) else ""
        if not value:
            continue
        if not (EXACT_RE.fullmatch(value) or PREFIX_RE.fullmatch(value)):
            raise InvalidInput(
                f"Not an agent id or prefix pattern: {value[:40]!r} (use alice or claude-*)."
            )
        found.add(value)
    if len(found) > MAX_PATTERNS:
        raise InvalidInput(f"A key may be bound to at most {MAX_PATTERNS} ids or prefixes.")
    return tuple(sorted(found))


def split_setting(value: str) -> tuple[str, ...]:
    """``SCS_API_KEY_AGENTS=alice,claude-*`` → a binding."""
    return parse_binding(value.split(","))


def allows(binding: tuple[str, ...], agent_id: str) -> bool:
    if not binding:
        return True
    for pattern in binding:
        if pattern.endswith("*"):
            if agent_id.startswith(pattern[:-1]):
                return True
        elif agent_id == pattern:
            return True
    return False


def require_allowed(binding: tuple[str, ...], agent_id: str, key_name: str) -> None:
    if not allows(binding, agent_id):
        raise PermissionDenied(
            f"The API key {key_name!r} is bound to {', '.join(binding)} and cannot act as "
            f"{agent_id!r}.",
            code=ErrorCode.PERMISSION_DENIED,
        )


def describe(binding: tuple[str, ...]) -> str:
    return ",".join(binding) if binding else "any agent (team key)"
