"""The storage interface for reading and trimming the audit log (SQLite: ``sqlite/audit.py``).

Rows are written with the mutations they describe (``Store`` write methods and
``Store.record_audit``); this interface only reads them and applies retention.
"""

from __future__ import annotations

from typing import Protocol

from shared_context.domain.audit import AuditQuery, AuditSummary
from shared_context.domain.models import AuditEvent


class AuditLogStore(Protocol):
    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        """Matching rows by id (newest first unless asked otherwise), at most ``limit``."""
        ...

    async def summary(self, agent_id: str | None, since: float) -> AuditSummary:
        """Counts of rows at or after ``since``; one agent's, or everyone's when None."""
        ...

    async def purge_before(self, cutoff: float, batch: int) -> int:
        """Delete at most ``batch`` rows older than ``cutoff`` in one transaction."""
        ...
