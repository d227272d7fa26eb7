"""Per-tool call counts, errors and latency, measured around every tool call."""

from __future__ import annotations

import time

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult
from mcp import types as mcp_types

from shared_context.services.metrics import MetricsService


class ToolTimingMiddleware(Middleware):
    def __init__(self, metrics: MetricsService) -> None:
        self._metrics = metrics

    async def on_call_tool(
        self,
        context: MiddlewareContext[mcp_types.CallToolRequestParams],
        call_next: CallNext[mcp_types.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        started = time.perf_counter()
        ok = False
        try:
            result = await call_next(context)
            ok = not result.is_error
            return result
        finally:
            self._metrics.record_tool(context.message.name, time.perf_counter() - started, ok)
