"""Recording audit events. Rows never hold tokens, keys or memory values."""

from __future__ import annotations

import logging
from typing import Any

from shared_context.domain.clock import Clock
from shared_context.domain.models import AuditEvent, Principal
from shared_context.storage.base import Store

log = logging.getLogger(__name__)

SUCCESS = "success"
FAILURE = "failure"
DENIED = "denied"


class AuditRecorder:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def event(
        self,
        event_type: str,
        principal: Principal | None,
        *,
        session_id: str | None = None,
        outcome: str = SUCCESS,
        agent_id: str | None = None,
        **details: Any,
    ) -> AuditEvent:
        """An event to commit together with the mutation it describes."""
        return AuditEvent(
            event_type=event_type,
            agent_id=principal.agent_id if principal else agent_id,
            outcome=outcome,
            session_id=session_id,
            details=details,
            timestamp=self._clock.now(),
        )

    async def record(
        self,
        event_type: str,
        principal: Principal | None,
        *,
        session_id: str | None = None,
        outcome: str = SUCCESS,
        agent_id: str | None = None,
        **details: Any,
    ) -> None:
        """Record on its own (authentication attempts, refused operations)."""
        await self._store.record_audit(
            self.event(
                event_type,
                principal,
                session_id=session_id,
                outcome=outcome,
                agent_id=agent_id,
                **details,
            )
        )
