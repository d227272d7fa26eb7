"""What a reader asks of the audit log, and the activity summary it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared_context.domain.clock import iso


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters are ANDed; ``agent_id`` is forced to the caller for non-admins by the service."""

    limit: int = 100
    agent_id: str | None = None
    session_id: str | None = None
    event_type: str | None = None
    since: float | None = None
    cursor_id: int | None = None
    newest_first: bool = True


@dataclass(frozen=True, slots=True)
class AuditSummary:
    total: int = 0
    by_event_type: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_agent: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    first_at: float | None = None
    last_at: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "total_events": self.total,
            "by_event_type": self.by_event_type,
            "by_outcome": self.by_outcome,
            "by_agent": self.by_agent,
            "sessions": self.sessions,
            "first_event_at": iso(self.first_at),
            "last_event_at": iso(self.last_at),
        }
