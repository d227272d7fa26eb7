"""The visibility rule, in exactly one place.

It is exposed twice, from the same table of cases: as a predicate over (viewer, message) for
in-memory checks (notifications, caches), and as a SQL condition with parameters that every
storage query reading messages must include. A property test checks the two agree.

- public:      every agent that can read the session
- private:     only the sender
- agent_only:  agents whose agent_type equals the sender's
- admin_only:  agents holding the admin permission
"""

from __future__ import annotations

from typing import Any

from shared_context.domain.models import Message, Principal, Visibility


def can_see(viewer: Principal, message: Message, *, include_admin_only: bool = True) -> bool:
    match message.visibility:
        case Visibility.PUBLIC:
            return True
        case Visibility.PRIVATE:
            return message.sender == viewer.agent_id
        case Visibility.AGENT_ONLY:
            return message.sender_type == viewer.agent_type
        case Visibility.ADMIN_ONLY:
            return viewer.is_admin and include_admin_only
    return False  # pragma: no cover - exhaustive over the enum


def sql_filter(
    viewer: Principal, *, alias: str = "m", include_admin_only: bool = True
) -> tuple[str, list[Any]]:
    """A parenthesised condition with ``?`` placeholders, and its parameters in order."""
    clauses = [
        f"{alias}.visibility = 'public'",
        f"({alias}.visibility = 'private' AND {alias}.sender = ?)",
        f"({alias}.visibility = 'agent_only' AND {alias}.sender_type = ?)",
    ]
    params: list[Any] = [viewer.agent_id, viewer.agent_type]
    if viewer.is_admin and include_admin_only:
        clauses.append(f"{alias}.visibility = 'admin_only'")
    return "(" + " OR ".join(clauses) + ")", params


def audience_key(viewer: Principal, *, include_admin_only: bool = True) -> tuple[str, str, bool]:
    """Everything the rule looks at: two viewers with equal keys see exactly the same messages."""
    return (viewer.agent_id, viewer.agent_type, viewer.is_admin and include_admin_only)
