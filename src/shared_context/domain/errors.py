"""One exception tree for every failure a caller can see.

    SharedContextError (code, message, details)
    ├── InvalidInput            INVALID_INPUT
    ├── AuthError               AUTH_REQUIRED | TOKEN_EXPIRED | TOKEN_INVALID | INVALID_API_KEY
    ├── PermissionDenied        PERMISSION_DENIED
    ├── NotFound                SESSION_NOT_FOUND | MESSAGE_NOT_FOUND | MEMORY_NOT_FOUND
    ├── Conflict                KEY_EXISTS | VERSION_CONFLICT | SESSION_LOCKED | LOCK_NOT_HELD
    ├── LimitExceeded           RATE_LIMITED | QUOTA_EXCEEDED
    └── StorageError            STORAGE_FULL | INTERNAL_ERROR

Services raise these and never build responses. ``ERROR_FORMS`` below is the one table from
code to wire form; the transports apply it in exactly one module each: ``mcp/errors.py``
(tool results, JSON-RPC errors for resources, prompts and subscriptions) and
``web/errors.py`` (HTTP responses). ``tests/unit/test_error_boundary.py`` fails if a mapping
appears anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class ErrorForm:
    """How one code travels. A tool call always answers with a tool error (``isError`` and
    the ``{success: false, code, message}`` body, SPEC §3); requests that have no tool-error
    form (resources, prompts, subscriptions) answer a JSON-RPC error with ``jsonrpc_code``
    and the same body as ``data``; HTTP routes answer ``http_status`` with the body."""

    http_status: int
    jsonrpc_code: int


#: JSON-RPC codes: the spec's own where one fits, else the implementation-defined range.
JSONRPC_INVALID_REQUEST = -32600
JSONRPC_INVALID_PARAMS = -32602
JSONRPC_INTERNAL_ERROR = -32603
JSONRPC_UNAUTHORIZED = -32001
JSONRPC_NOT_FOUND = -32002  # MCP's "resource not found"
JSONRPC_RATE_LIMITED = -32029  # implementation-defined server error range ("429")

_AUTH = ErrorForm(401, JSONRPC_UNAUTHORIZED)
_CONFLICT = ErrorForm(409, JSONRPC_INVALID_REQUEST)
_NOT_FOUND = ErrorForm(404, JSONRPC_NOT_FOUND)


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


ERROR_FORMS: dict[ErrorCode, ErrorForm] = {
    ErrorCode.AUTH_REQUIRED: _AUTH,
    ErrorCode.TOKEN_EXPIRED: _AUTH,
    ErrorCode.TOKEN_INVALID: _AUTH,
    ErrorCode.INVALID_API_KEY: _AUTH,
    ErrorCode.PERMISSION_DENIED: ErrorForm(403, JSONRPC_UNAUTHORIZED),
    ErrorCode.INVALID_INPUT: ErrorForm(400, JSONRPC_INVALID_PARAMS),
    ErrorCode.SESSION_NOT_FOUND: _NOT_FOUND,
    ErrorCode.MESSAGE_NOT_FOUND: _NOT_FOUND,
    ErrorCode.MEMORY_NOT_FOUND: _NOT_FOUND,
    ErrorCode.KEY_EXISTS: _CONFLICT,
    ErrorCode.VERSION_CONFLICT: _CONFLICT,
    ErrorCode.SESSION_LOCKED: _CONFLICT,
    ErrorCode.LOCK_NOT_HELD: _CONFLICT,
    ErrorCode.RATE_LIMITED: ErrorForm(429, JSONRPC_RATE_LIMITED),
    ErrorCode.QUOTA_EXCEEDED: ErrorForm(429, JSONRPC_INVALID_REQUEST),
    ErrorCode.STORAGE_FULL: ErrorForm(507, JSONRPC_INTERNAL_ERROR),
    ErrorCode.INTERNAL_ERROR: ErrorForm(500, JSONRPC_INTERNAL_ERROR),
}
