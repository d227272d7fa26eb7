"""MCP tools, one module per area; each exposes ``register(mcp, app)``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from shared_context.mcp.errors import tool

__all__ = ["AuthToken", "Cursor", "Metadata", "SessionId", "page_field", "range_field", "tool"]


def range_field(bound: tuple[int, int], description: str) -> Any:
    """A numeric argument bounded by a ``domain.bounds`` range, published in the schema;
    ``description`` may name ``{low}`` and ``{high}``."""
    low, high = bound
    return Field(description=description.format(low=low, high=high), ge=low, le=high)


def page_field(bound: tuple[int, int]) -> Any:
    return range_field(bound, "{low}-{high}.")


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
