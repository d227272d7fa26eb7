"""Who may do what: the permission names and the single check every service uses."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from shared_context.domain.errors import ErrorCode, InvalidInput, PermissionDenied

if TYPE_CHECKING:
    from shared_context.domain.models import Principal


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)
AGENT_CEILING: frozenset[Permission] = frozenset({Permission.READ, Permission.WRITE})


def parse_permissions(values: Iterable[str]) -> frozenset[Permission]:
    result: set[Permission] = set()
    for value in values:
        try:
            result.add(Permission(value))
        except ValueError as exc:
            raise InvalidInput(
                f"Unknown permission {str(value)[:20]!r}; use read, write or admin."
            ) from exc
    return frozenset(result)


def require(principal: Principal, permission: Permission) -> None:
    if permission not in principal.permissions:
        raise PermissionDenied(
            f"This needs the {permission.value!r} permission; the token grants "
            f"{sorted(p.value for p in principal.permissions)}. Authenticate with a key "
            "whose ceiling includes it.",
            code=ErrorCode.PERMISSION_DENIED,
        )
