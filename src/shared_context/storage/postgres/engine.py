"""asyncpg connections: how to reach the database, the pool, and driver-error translation.

Every connection of an instance is configured alike: the schema (``search_path``) comes from
``Settings.database_schema`` or from the URL itself (``?options=-csearch_path%3D…``), so one
database can host several independent deployments or test runs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import asyncpg

from shared_context.domain.errors import ErrorCode, SharedContextError, StorageError

log = logging.getLogger(__name__)

SCHEMES = ("postgresql", "postgres")
_DISK_FULL = "53100"


def is_postgres_url(url: str) -> bool:
    return urlparse(url).scheme in SCHEMES


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class ConnectArgs:
    """Everything needed to open a connection like every other one of this instance."""

    dsn: str
    schema: str = ""
    server_settings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_url(cls, url: str, schema: str = "") -> ConnectArgs:
        if not is_postgres_url(url):
            raise ValueError("not a postgresql:// URL")
        settings = {"application_name": "shared-context-server"}
        if schema:
            settings["search_path"] = f"{quote_ident(schema)}, public"
        return cls(dsn=url, schema=schema, server_settings=settings)

    async def connect(self, *, timeout: float = 10.0) -> Any:
        return await asyncpg.connect(
            self.dsn, server_settings=dict(self.server_settings), timeout=timeout
        )

    async def create_pool(self, *, min_size: int, max_size: int, command_timeout: float) -> Any:
        return await asyncpg.create_pool(
            self.dsn,
            min_size=min_size,
            max_size=max_size,
            command_timeout=command_timeout,
            server_settings=dict(self.server_settings),
        )


def translate(exc: BaseException) -> SharedContextError:
    """A driver or network failure as the domain error callers see."""
    if isinstance(exc, SharedContextError):
        return exc
    if getattr(exc, "sqlstate", None) == _DISK_FULL:
        return StorageError("The database disk is full.", code=ErrorCode.STORAGE_FULL)
    if isinstance(exc, asyncpg.PostgresError):
        log.warning("database error: %s", exc)
        return StorageError("The database could not complete the request; try again.")
    log.warning("database unreachable: %s", exc)
    return StorageError("The database is unreachable; try again shortly.")


#: Exceptions the adapter converts with ``translate`` at its boundary.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    asyncio.TimeoutError,
)
