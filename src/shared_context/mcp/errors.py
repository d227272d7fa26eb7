"""The one place that turns exceptions into MCP tool results (``isError`` + structured body)."""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from fastmcp.exceptions import DisabledError, NotFoundError
from fastmcp.exceptions import ValidationError as FastMCPValidationError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult
from mcp import types as mcp_types

from shared_context.domain.errors import ErrorCode, SharedContextError
from shared_context.telemetry.calls import Call, CallRecorder

log = logging.getLogger(__name__)


def error_result(body: dict[str, Any]) -> ToolResult:
    return ToolResult(structured_content=body, is_error=True)


def describe_validation(exc: BaseException) -> str:
    """Field-by-field text without echoing the (possibly huge or secret) input."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, pydantic.ValidationError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, pydantic.ValidationError):
        parts = []
        for err in cause.errors(include_input=False, include_url=False)[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "call") or "arguments"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return "Invalid arguments: " + "; ".join(parts)
    return "Invalid arguments: " + str(exc).splitlines()[0][:200]


class _ExpectedErrorFilter(logging.Filter):
    """Drop FastMCP's "Error calling tool" traceback for our own errors: an expired token or a
    bad argument is an answer to the caller, not a server fault. Unexpected errors still log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SharedContextError)


_EXPECTED_ERRORS = _ExpectedErrorFilter()


def quiet_expected_errors() -> None:
    """Idempotent: attach the filter to the logger FastMCP reports tool failures on."""
    logger = logging.getLogger("fastmcp.server.server")
    if _EXPECTED_ERRORS not in logger.filters:
        logger.addFilter(_EXPECTED_ERRORS)


class ErrorMiddleware(Middleware):
    """Around every tool call: a failure becomes the error result, and the call is measured
    (histogram, counters, span, log line: ``telemetry.calls``). One layer for both keeps the
    per-call cost low."""

    def __init__(self, calls: CallRecorder | None = None) -> None:
        quiet_expected_errors()
        self._calls = calls

    async def on_call_tool(
        self,
        context: MiddlewareContext[mcp_types.CallToolRequestParams],
        call_next: CallNext[mcp_types.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        if self._calls is None:
            return await self._answer(context, call_next, None)
        with self._calls.call(context.message.name) as call:
            return await self._answer(context, call_next, call)

    async def _answer(
        self,
        context: MiddlewareContext[mcp_types.CallToolRequestParams],
        call_next: CallNext[mcp_types.CallToolRequestParams, ToolResult],
        call: Call | None,
    ) -> ToolResult:
        try:
            result = await call_next(context)
        except Exception as exc:
            result = self.to_result(exc, context.message.name)
            if call is not None and isinstance(exc, NotFoundError | DisabledError):
                call.unknown_tool()
        if call is not None and result.is_error:
            call.failed(_code_of(result))
        return result

    @staticmethod
    def to_result(exc: BaseException, tool: str) -> ToolResult:
        # FastMCP wraps a tool's exception in ToolError; the cause carries our error.
        root = _find(
            exc,
            (SharedContextError, FastMCPValidationError, pydantic.ValidationError, RecursionError),
        )
        if isinstance(root, SharedContextError):
            return error_result(root.to_dict())
        if isinstance(root, FastMCPValidationError | pydantic.ValidationError):
            return _invalid(describe_validation(root))
        if isinstance(root, RecursionError):
            return _invalid("Invalid arguments: nested too deeply.")
        if isinstance(exc, NotFoundError | DisabledError):  # raised before any tool ran
            return _invalid(f"Unknown tool {tool[:100]!r}; list the available tools first.")
        log.error("tool %s failed", tool, exc_info=exc)
        return error_result(
            {
                "success": False,
                "code": ErrorCode.INTERNAL_ERROR.value,
                "message": "The server hit an unexpected error; it has been logged.",
            }
        )


def _code_of(result: ToolResult) -> str:
    body = result.structured_content
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ErrorCode.INTERNAL_ERROR.value


def _invalid(message: str) -> ToolResult:
    return error_result(
        {"success": False, "code": ErrorCode.INVALID_INPUT.value, "message": message}
    )


def _find(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, kinds):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None
