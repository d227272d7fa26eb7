"""get_performance_metrics, generate_api_documentation."""

from __future__ import annotations

from typing import Literal

from fastmcp import FastMCP

from shared_context.domain.permissions import Permission, require
from shared_context.mcp.identity import caller
from shared_context.mcp.tools import AuthToken, tool
from shared_context.services import docs
from shared_context.services.container import Services
from shared_context.services.results import Documentation, MetricsReport


async def tool_docs(mcp: FastMCP) -> list[docs.ToolDoc]:
    out = []
    for listed in await mcp.list_tools():
        annotations = listed.annotations
        out.append(
            docs.ToolDoc(
                name=listed.name,
                description=listed.description or "",
                input_schema=dict(listed.parameters),
                read_only=bool(annotations and annotations.read_only_hint),
            )
        )
    return out


def register(mcp: FastMCP, app: Services) -> None:
    @tool(mcp, annotations={"title": "Performance metrics", "readOnlyHint": True})
    async def get_performance_metrics(auth_token: AuthToken = None) -> MetricsReport:
        """Measured figures (admin): per-tool calls, errors and latency percentiles; database,
        cache and coordination figures; totals; PostgreSQL migration readiness."""
        principal = await caller(app, auth_token)
        return await app.metrics.report(principal)

    @tool(mcp, annotations={"title": "API documentation", "readOnlyHint": True})
    async def generate_api_documentation(
        format: Literal["json", "markdown", "openapi"] = "json",
        include_examples: bool = True,
        auth_token: AuthToken = None,
    ) -> Documentation:
        """Documentation of every tool, generated from the live registry."""
        principal = await caller(app, auth_token)
        require(principal, Permission.READ)
        return docs.render(await tool_docs(mcp), format, include_examples)
