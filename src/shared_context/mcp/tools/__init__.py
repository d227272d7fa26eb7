"""MCP tools, one module per area; each exposes ``register(mcp, app)``."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from pydantic import Field

from shared_context.domain.errors import SharedContextError

P = ParamSpec("P")
R = TypeVar("R")


def tool(
    mcp: FastMCP, **options: Any
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Register a tool. Our own errors (the caller's problem: bad input, conflicts, not
    found) pass to ``ErrorMiddleware`` as a quiet ``ToolError``; left alone, FastMCP would log
    each with a full traceback, which costs ~50-100 ms per failed call and floods the log."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def quiet(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except SharedContextError as exc:
                raise ToolError(exc.message, log_level=logging.DEBUG) from exc

        mcp.tool(**options)(quiet)
        return fn

    return decorate


AuthToken = Annotated[
    str | None,
    Field(
        description="Optional token from authenticate_agent; default: the connection's identity.",
        max_length=4096,
    ),
]
SessionId = Annotated[
    str, Field(description="Session id, e.g. session_0123456789abcdef.", max_length=64)
]
Metadata = Annotated[
    dict[str, object] | None,
    Field(description="JSON object, at most 50 keys and 10,000 bytes serialised."),
]
Cursor = Annotated[
    str | None, Field(description="next_cursor from the previous page.", max_length=64)
]
