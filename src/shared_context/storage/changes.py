"""The storage-neutral shape of a cross-process change feed (SPEC §15).

Several server processes on one SQLite file see each other's commits through a change log
that the database itself keeps (triggers, in the same transaction as each change). A feed
tells cheaply whether anything was committed since it last looked, and reads what was, with
the message each change names already read back, so consumers apply the visibility rule to
the real row exactly as they do for a local write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from shared_context.domain.models import Message


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    seq: int
    kind: str
    session_id: str | None
    agent_id: str | None
    message_id: int | None
    detail: str | None
    message: Message | None = None


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    #: Changes made by other processes (or other tools), in commit order.
    records: list[ChangeRecord] = field(default_factory=list)
    #: Changes were missed (trimmed before this process read them): consumers re-query all.
    gap: bool = False
    #: Changes this process made itself and already published on its own bus.
    own: int = 0
    #: The read stopped at its row limit: more rows are waiting.
    more: bool = False


class ChangeFeed(Protocol):
    #: This process's own change-log rows that ``changed`` passed over without a ``read``.
    own_settled: int

    def changed(self) -> bool:
        """Whether another process committed since the last ``read``; cheap enough per call."""
        ...

    async def read(self) -> ChangeBatch:
        """Everything committed since the last read (bounded per call; call until empty)."""
        ...

    def watch(self, on_change: Callable[[], None], interval: float) -> None:
        """Call ``on_change`` (from another thread) soon after any connection commits; checks
        every ``interval`` seconds off the event loop, so an idle process costs ~nothing."""
        ...

    async def trim(self, older_than: float) -> int:
        """Drop log rows recorded before ``older_than`` (epoch seconds); returns how many."""
        ...
