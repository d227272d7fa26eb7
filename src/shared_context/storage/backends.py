"""Each storage backend built by one factory into one typed bundle.

``bootstrap`` asks for a ``Backend`` and wires its parts; it never asks which backend it has.
This is the only module that knows both adapters (they never import each other).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from shared_context.domain.errors import InvalidInput
from shared_context.storage.audit import AuditLogStore
from shared_context.storage.base import Store
from shared_context.storage.coordination import CoordinationStore
from shared_context.storage.memory import MemoryStore
from shared_context.storage.postgres.audit import PostgresAuditLog
from shared_context.storage.postgres.coordination import PostgresCoordinationStore
from shared_context.storage.postgres.memory import PostgresMemoryStore
from shared_context.storage.postgres.search import PostgresSearch
from shared_context.storage.postgres.store import PostgresStore
from shared_context.storage.search import SearchStore
from shared_context.storage.sqlite.audit import SqliteAuditLog
from shared_context.storage.sqlite.coordination import SqliteCoordinationStore
from shared_context.storage.sqlite.memory import SqliteMemoryStore
from shared_context.storage.sqlite.search import SqliteSearch
from shared_context.storage.sqlite.store import SqliteStore


@dataclass(frozen=True, slots=True)
class Backend:
    store: Store
    search: SearchStore
    memory: MemoryStore
    audit_log: AuditLogStore
    coordination: CoordinationStore
    listen_connect: Callable[[], Awaitable[Any]] | None = None
    """Opens the dedicated connection the cross-instance event bridge LISTENs on
    (PostgreSQL); None for a backend whose instances need no such bridge."""
    recover_space: Callable[[int], Awaitable[Any]] | None = None
    """Clears a disk-full state once space returns (SQLite); None where the database
    server manages its own disk."""


def sqlite_backend(store: SqliteStore) -> Backend:
    return Backend(
        store=store,
        search=SqliteSearch(store),
        memory=SqliteMemoryStore(store),
        audit_log=SqliteAuditLog(store),
        coordination=SqliteCoordinationStore(store),
        recover_space=store.recover_space,
    )


def postgres_backend(store: PostgresStore) -> Backend:
    return Backend(
        store=store,
        search=PostgresSearch(store),
        memory=PostgresMemoryStore(store),
        audit_log=PostgresAuditLog(store),
        coordination=PostgresCoordinationStore(store),
        listen_connect=store.connect_args.connect,
    )


def backend_for(store: Store) -> Backend:
    """The bundle around an already built store (tests and tools pass their own)."""
    if isinstance(store, SqliteStore):
        return sqlite_backend(store)
    if isinstance(store, PostgresStore):
        return postgres_backend(store)
    raise InvalidInput(f"No storage backend for the {store.dialect!r} store.")
