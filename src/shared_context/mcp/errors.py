"""The MCP error boundary: the one module that turns exceptions into MCP answers.

- Tool calls: ``tool()`` registers every tool with a wrapper that hands our errors on quietly,
  and ``ErrorMiddleware`` turns any failure into a tool error (``isError`` + the
  ``{success: false, code, message}`` body, SPEC §3).
- Resources, prompts and subscriptions have no tool-error form: ``RequestErrors`` and
  ``jsonrpc_error`` answer JSON-RPC errors whose code comes from ``domain.errors.ERROR_FORMS``
  and whose ``data`` is the same body. A resource that is hidden or missing answers through
  FastMCP's own not-found path, so both look exactly alike.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import pydantic
from fastmcp import FastMCP
from fastmcp.exceptions import DisabledError, NotFoundError, PromptError, ResourceError, ToolError
from fastmcp.exceptions import ValidationError as FastMCPValidationError
from fastmcp.prompts.base import PromptResult
from fastmcp.resources.base import ResourceResult
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools import FunctionTool
from fastmcp.tools.base import ToolResult
from mcp import MCPError
from mcp import types as mcp_types

from shared_context.domain.errors import (
    ERROR_FORMS,
    JSONRPC_INVALID_REQUEST,
    ErrorCode,
    InvalidInput,
    NotFound,
    SharedContextError,
)
from shared_context.mcp.schemas import published
from shared_context.telemetry.calls import Call, CallRecorder

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

#: Set on every function registered through ``tool()``; a test checks each registered tool.
BOUNDARY_MARK = "__scs_error_boundary__"


def tool(
    mcp: FastMCP, **options: Any
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Register a tool behind the boundary. Our own errors (the caller's problem: bad input,
    conflicts, not found) travel to ``ErrorMiddleware`` as a quiet ``ToolError``; left alone,
    FastMCP would log each with a full traceback, which costs ~50-100 ms per failed call and
    floods the log."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def quiet(*args: P.args, **kwargs: P.kwargs) -> R | ToolResult:
            try:
                result = await fn(*args, **kwargs)
            except SharedContextError as exc:
                raise ToolError(exc.message, log_level=logging.DEBUG) from exc
            return answer(result)

        setattr(quiet, BOUNDARY_MARK, True)
        # Built once here (not by the decorator) so its output schema can be compacted
        # before the tool is registered.
        built = FunctionTool.from_function(quiet, **options)
        if built.output_schema is not None:
            built = built.model_copy(update={"output_schema": published(built.output_schema)})
        mcp.add_tool(built)
        return fn

    return decorate


def answer(result: R) -> R | ToolResult:
    """A result model as its tool answer: the JSON text and the structured content, each
    serialised once by pydantic. (Left to FastMCP, a model is serialised to text, to JSON
    and parsed back for the structured content, then that is serialised to text again:
    measured 0.44 → 0.25 ms for a ten-hit search result, 0.78 → 0.52 ms for a 50-message
    page, loaded machine.) The wire form is the same text and the same structured value."""
    if isinstance(result, pydantic.BaseModel):
        return ToolResult(
            content=[mcp_types.TextContent(type="text", text=result.model_dump_json())],
            structured_content=result.model_dump(mode="json"),
        )
    return result


def guarded_resource(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """For resource handlers: our errors leave as a quiet ``ResourceError`` that
    ``RequestErrors`` maps (a refused read is the caller's problem, not a server fault)."""

    @functools.wraps(fn)
    async def quiet(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except SharedContextError as exc:
            raise ResourceError(
                f"{exc.code.value}: {exc.message}", log_level=logging.DEBUG
            ) from exc

    setattr(quiet, BOUNDARY_MARK, True)
    return quiet


def error_result(body: dict[str, Any]) -> ToolResult:
    return ToolResult(structured_content=body, is_error=True)


def jsonrpc_error(exc: SharedContextError) -> MCPError:
    """A JSON-RPC error for a request that has no tool-error form."""
    return MCPError(
        code=ERROR_FORMS[exc.code].jsonrpc_code,
        message=f"{exc.code.value}: {exc.message}",
        data=exc.to_dict(),
    )


def jsonrpc_refusal(exc: SharedContextError) -> tuple[int, bytes]:
    """HTTP status and JSON-RPC error body for a request refused before MCP handles it."""
    body = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": ERROR_FORMS[exc.code].jsonrpc_code,
            "message": exc.message,
            "data": exc.to_dict(),
        },
    }
    return ERROR_FORMS[exc.code].http_status, json.dumps(body).encode()


def protocol_fault(message: str) -> MCPError:
    """A malformed request (not one of our errors): JSON-RPC invalid request."""
    return MCPError(code=JSONRPC_INVALID_REQUEST, message=message)


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


class ErrorMiddleware(Middleware):
    """Around every tool call: a failure becomes the error result, and the call is measured
    (histogram, counters, span, log line: ``telemetry.calls``). One layer for both keeps the
    per-call cost low."""

    def __init__(self, calls: CallRecorder | None = None) -> None:
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
            if call is not None and isinstance(exc, NotFoundError | DisabledError):
                # Counted before the JSON-RPC error below leaves: an unknown tool is a call.
                call.unknown_tool()
                call.failed(ErrorCode.INVALID_INPUT.value)
            result = self.to_result(exc, context.message.name)
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
            # A protocol fault, not a tool's answer: JSON-RPC -32602 (SPEC §19).
            raise MCPError(
                mcp_types.INVALID_PARAMS,
                f"Unknown tool {tool[:100]!r}; list the available tools first.",
                {"code": ErrorCode.INVALID_INPUT.value},
            ) from exc
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


class RequestErrors(Middleware):
    """Resources and prompts: our errors become JSON-RPC errors from the one table."""

    async def on_read_resource(
        self,
        context: MiddlewareContext[mcp_types.ReadResourceRequestParams],
        call_next: CallNext[mcp_types.ReadResourceRequestParams, ResourceResult],
    ) -> ResourceResult:
        try:
            return await call_next(context)
        except (ResourceError, SharedContextError) as exc:
            ours = _ours(exc)
            if isinstance(ours, NotFound):
                # Hidden or missing: FastMCP's own answer for an unknown resource.
                raise NotFoundError(f"Unknown resource: {str(context.message.uri)!r}") from None
            if ours is None:
                raise
            raise jsonrpc_error(ours) from None

    async def on_get_prompt(
        self,
        context: MiddlewareContext[mcp_types.GetPromptRequestParams],
        call_next: CallNext[mcp_types.GetPromptRequestParams, PromptResult],
    ) -> PromptResult:
        try:
            return await call_next(context)
        except (PromptError, SharedContextError) as exc:
            ours = _ours(exc)
            if ours is None:
                raise
            raise jsonrpc_error(ours) from None


def _ours(exc: BaseException) -> SharedContextError | None:
    found = _find(exc, (SharedContextError,))
    return found if isinstance(found, SharedContextError) else None


def _invalid(message: str) -> ToolResult:
    return error_result(InvalidInput(message).to_dict())


def _find(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, kinds):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None
