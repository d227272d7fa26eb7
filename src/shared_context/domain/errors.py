"""One exception tree for every failure a caller can see.

    SharedContextError (code, message, details)
    ├── InvalidInput            INVALID_INPUT
    ├── AuthError               AUTH_REQUIRED | TOKEN_EXPIRED | TOKEN_INVALID | INVALID_API_KEY
    ├── PermissionDenied        PERMISSION_DENIED
    ├── NotFound                SESSION_NOT_FOUND | MESSAGE_NOT_FOUND | MEMORY_NOT_FOUND
    ├── Conflict                KEY_EXISTS | VERSION_CONFLICT | SESSION_LOCKED | LOCK_NOT_HELD
    ├── LimitExceeded           RATE_LIMITED | QUOTA_EXCEEDED
    └── StorageError            STORAGE_FULL | INTERNAL_ERROR

Transports map these to wire responses in exactly one place each (``mcp/errors.py`` and the
web app); services raise them and never build responses themselves.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    AUTH_REQUIRED = "AUTH_REQUIRED"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    INVALID_API_KEY = "INVALID_API_KEY"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    INVALID_INPUT = "INVALID_INPUT"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    MESSAGE_NOT_FOUND = "MESSAGE_NOT_FOUND"
    MEMORY_NOT_FOUND = "MEMORY_NOT_FOUND"
    KEY_EXISTS = "KEY_EXISTS"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    SESSION_LOCKED = "SESSION_LOCKED"
    LOCK_NOT_HELD = "LOCK_NOT_HELD"
    RATE_LIMITED = "RATE_LIMITED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    STORAGE_FULL = "STORAGE_FULL"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class SharedContextError(Exception):
    """Base of every error a caller may see; ``code`` is stable, ``message`` is for humans."""

    default_code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code or self.default_code
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": False, "code": self.code.value, "message": self.message}
        if self.details:
            body["details"] = self.details
            # Frequently read details are also promoted to the top level for convenience.
            for key in ("holder", "expires_at", "current_version"):
                if key in self.details:
                    body[key] = self.details[key]
        return body


class InvalidInput(SharedContextError):
    default_code = ErrorCode.INVALID_INPUT


class AuthError(SharedContextError):
    default_code = ErrorCode.AUTH_REQUIRED


class PermissionDenied(SharedContextError):
    default_code = ErrorCode.PERMISSION_DENIED


class NotFound(SharedContextError):
    default_code = ErrorCode.SESSION_NOT_FOUND


class Conflict(SharedContextError):
    default_code = ErrorCode.VERSION_CONFLICT


class LimitExceeded(SharedContextError):
    default_code = ErrorCode.QUOTA_EXCEEDED


class StorageError(SharedContextError):
    default_code = ErrorCode.INTERNAL_ERROR


def session_not_found(session_id: str) -> NotFound:
    # Same words whether the session is missing or hidden: nothing leaks through the message.
    return NotFound(
        f"Session {session_id!r} was not found. Check the id or create a session first.",
        code=ErrorCode.SESSION_NOT_FOUND,
    )


def message_not_found(message_id: int) -> NotFound:
    return NotFound(
        f"Message {message_id} was not found in this session.",
        code=ErrorCode.MESSAGE_NOT_FOUND,
    )
