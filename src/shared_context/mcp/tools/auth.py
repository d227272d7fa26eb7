"""authenticate_agent, refresh_token."""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from pydantic import Field

from shared_context.domain import bounds
from shared_context.mcp.identity import caller, header_api_key
from shared_context.mcp.tools import AuthToken, tool
from shared_context.services.container import Services
from shared_context.services.results import TokenResult


def register(mcp: FastMCP, app: Services) -> None:
    @tool(mcp, annotations={"title": "Authenticate agent"})
    async def authenticate_agent(
        agent_id: Annotated[
            str,
            Field(
                description=f"1-{bounds.AGENT_ID_MAX_CHARS} chars of [A-Za-z0-9_.-], starting "
                "alphanumeric.",
                max_length=bounds.AGENT_ID_MAX_CHARS,
            ),
        ],
        agent_type: Annotated[
            str,
            Field(
                description="Kind of agent, e.g. claude, gemini, codex, script.",
                max_length=bounds.AGENT_TYPE_MAX_CHARS,
            ),
        ] = "generic",
        api_key: Annotated[
            str | None,
            Field(
                description="API key; optional when sent as the X-API-Key header.", max_length=512
            ),
        ] = None,
        requested_permissions: Annotated[
            list[str] | None,
            Field(description="Subset of read, write, admin. Default read, write.", max_length=3),
        ] = None,
    ) -> TokenResult:
        """Exchange an API key for an agent token (JWT), granting the requested permissions the
        key allows. Not needed when the connection carries an identity; use the token as
        auth_token (e.g. a sub-agent acting as itself) or as an HTTP bearer token."""
        return await app.auth.authenticate(
            agent_id, agent_type, api_key or header_api_key(), requested_permissions
        )

    @tool(mcp, annotations={"title": "Refresh token"})
    async def refresh_token(auth_token: AuthToken = None) -> TokenResult:
        """Issue a fresh token for the same agent and revoke the one presented."""
        principal = await caller(app, auth_token)
        return await app.auth.refresh(principal)
