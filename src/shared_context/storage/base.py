"""The storage interface services depend on. Adapters: ``sqlite/`` (default), ``postgres/``.

Every method that reads messages takes the viewer and applies ``domain.visibility.sql_filter``
inside the query. Write methods take the audit event to record in the same transaction, so a
mutation and its audit row commit together or not at all. Adapters translate driver errors
into ``domain.errors`` at this boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from shared_context.domain.models import (
    ApiKey,
    AuditEvent,
    Message,
    MessageQuery,
    NewMessage,
    Principal,
    Session,
    Visibility,
)
from shared_context.storage.changes import ChangeFeed
from shared_context.storage.stats import StorageStats


class Store(Protocol):
    dialect: str

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def change_feed(self) -> ChangeFeed | None:
        """What other processes on the same database commit, when the backend needs this
        process to watch for it (SQLite); None where the backend carries changes itself."""
        ...

    def startup_lock(self) -> AbstractAsyncContextManager[None]:
        """Exclusive across every process/instance on this database while one makes the
        generated secret and keys (SPEC §15: exactly once)."""
        ...

    async def ping(self, timeout: float = 2.0) -> None:
        """Raise if the database does not answer."""
        ...

    def stats(self) -> dict[str, Any]: ...

    @property
    def instruments(self) -> StorageStats:
        """The adapter's Prometheus instruments and tracing hooks."""
        ...

    async def size_bytes(self) -> int: ...

    async def maintain(self, now: float) -> dict[str, int]:
        """Routine upkeep: purge revoked tokens past expiry, refresh planner statistics."""
        ...

    async def totals(self, since: float) -> dict[str, int]:
        """Row counts (sessions, messages, memory_entries, audit_events) and
        writes_last_24h: audited mutations with a timestamp after ``since``."""
        ...

    # --- secrets and keys ------------------------------------------------------------------
    async def get_or_create_secret(self, name: str, candidate: str) -> str:
        """Store ``candidate`` under ``name`` unless a value exists; return the stored value."""
        ...

    async def add_api_key(self, key: ApiKey, key_hash: str) -> bool:
        """False when the name or hash already exists."""
        ...

    async def bind_api_key(self, key_id: str, agents: tuple[str, ...]) -> None:
        """Replace the key's binding (domain.bindings); () makes it a team key."""
        ...

    async def find_api_key_by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def list_api_keys(self) -> list[ApiKey]: ...

    async def revoke_api_key(self, name_or_id: str, at: float) -> bool: ...

    async def revoke_token(self, jti: str, expires_at: float) -> None: ...

    async def token_revocation(self, jti: str, key_id: str) -> tuple[bool, bool]:
        """(token revoked, key revoked or missing)."""
        ...

    # --- sessions ----------------------------------------------------------------------------
    async def create_session(self, session: Session, audit: AuditEvent) -> Session: ...

    async def get_session(self, session_id: str) -> Session | None: ...

    async def list_sessions(
        self, *, active_only: bool, created_by: str | None, limit: int, after_seq: int | None
    ) -> list[Session]: ...

    async def close_session(self, session_id: str, at: float, audit: AuditEvent) -> None: ...

    async def visible_counts(
        self, viewer: Principal, session_ids: Sequence[str]
    ) -> dict[str, int]: ...

    async def participants(self, viewer: Principal, session_id: str) -> list[str]: ...

    # --- messages ----------------------------------------------------------------------------
    async def add_message(self, new: NewMessage, audit: AuditEvent) -> tuple[Message, bool]:
        """Insert within one transaction after checking the session is open, the parent exists
        in the same session and no other agent holds the session write lock. Returns the
        message and whether it was created (False: the idempotency key was seen before)."""
        ...

    async def get_messages(self, viewer: Principal, query: MessageQuery) -> list[Message]: ...

    async def get_message(self, session_id: str, message_id: int) -> Message | None: ...

    async def set_visibility(
        self, session_id: str, message_id: int, visibility: Visibility, audit: AuditEvent
    ) -> Message: ...

    async def last_message_id(self, session_id: str) -> int: ...

    async def recent_messages(self, session_id: str, limit: int) -> list[Message]:
        """The newest ``limit`` messages of a session, oldest first, ALL visibilities.
        Only for caches, which apply ``domain.visibility.can_see`` to every reader."""
        ...

    # --- audit -------------------------------------------------------------------------------
    async def record_audit(self, event: AuditEvent) -> None: ...
