"""The set of services one server instance runs, built by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared_context.config import Settings
from shared_context.domain.clock import Clock
from shared_context.events.bus import EventBus
from shared_context.services.audit import AuditRecorder
from shared_context.services.audit_log import AuditLogService
from shared_context.services.auth import AuthService
from shared_context.services.coordination import Coordination
from shared_context.services.cross_process import ChangeRelay
from shared_context.services.maintenance import Maintenance
from shared_context.services.memory import MemoryService
from shared_context.services.messages import MessageService
from shared_context.services.metrics import MetricsService
from shared_context.services.search import SearchService
from shared_context.services.sessions import SessionService
from shared_context.storage.base import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    bus: EventBus
    clock: Clock
    audit: AuditRecorder
    auth: AuthService
    sessions: SessionService
    messages: MessageService
    memory: MemoryService
    audit_log: AuditLogService
    metrics: MetricsService
    maintenance: Maintenance
    coordination: Coordination
    search: SearchService
    #: Carries other processes' commits on the same SQLite file (None on PostgreSQL).
    cross_process: ChangeRelay | None = None
    #: The transport's resource-subscription hub, built and wired by ``bootstrap``.
    subscriptions: SubscriptionHandlers | None = None


class SubscriptionHandlers(Protocol):
    """What the MCP transport needs of the hub the composition root built: its handlers."""

    def install(self, mcp: Any) -> None: ...
