"""Who is calling, for every MCP entry point (tools, resources, subscriptions).

This module only gathers what the request presents — the ``auth_token`` argument, the HTTP
headers (``Authorization: Bearer``, ``X-API-Key``, ``X-Agent-Id``, ``X-Agent-Type``,
``X-Agent-Permissions``) or, over stdio, the server's environment (``SCS_AGENT_TOKEN``, or
``SCS_API_KEY`` + ``SCS_AGENT_ID`` + ``SCS_AGENT_TYPE`` + ``SCS_AGENT_PERMISSIONS``) — and
hands it to ``AuthService.identify``, the one resolver. Everything downstream uses the
verified ``Principal`` only.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastmcp.server.dependencies import get_http_headers

from shared_context.domain.models import Principal
from shared_context.services.container import Services
from shared_context.services.identity import (
    Credentials,
    bearer_from,
    credentials_from_headers,
)


def bearer_token() -> str | None:
    return bearer_from(get_http_headers(include={"authorization"}).get("authorization"))


def header_api_key() -> str | None:
    return get_http_headers(include={"x-api-key"}).get("x-api-key") or None


def stdio_credentials(app: Services, auth_token: str | None = None) -> Credentials:
    """The stdio server's own identity, from its settings (environment)."""
    settings = app.settings
    token = settings.agent_token.get_secret_value() if settings.agent_token else None
    return Credentials(
        auth_token=auth_token or None,
        bearer=token,  # SCS_AGENT_TOKEN plays the bearer header's part over stdio
        # SCS_API_KEY alone configures the server's key; with SCS_AGENT_ID it is a credential.
        api_key=(
            settings.api_key.get_secret_value() if settings.api_key and settings.agent_id else None
        ),
        agent_id=settings.agent_id,
        agent_type=settings.agent_type,
        permissions=settings.agent_permissions,
        origin="stdio",
    )


def credentials(
    app: Services, auth_token: str | None = None, headers: Mapping[str, str] | None = None
) -> Credentials:
    """What this request presents: HTTP headers when there is an HTTP request, else stdio."""
    if headers is None:
        headers = get_http_headers(include_all=True)
    if headers:
        return credentials_from_headers(headers, auth_token)
    return stdio_credentials(app, auth_token)


async def caller(app: Services, auth_token: str | None) -> Principal:
    """A tool's caller: auth_token > bearer > connection identity."""
    return await app.auth.identify(credentials(app, auth_token))


async def resource_reader(app: Services) -> Principal:
    """Resources carry no arguments: bearer or connection headers over HTTP, the
    environment over stdio."""
    return await app.auth.identify(credentials(app))


async def subscriber(app: Services, headers: Mapping[str, str] | None) -> Principal:
    """A subscription request's identity: its HTTP headers (Starlette ``Headers``), or the
    stdio environment when it came over stdio (``headers`` None)."""
    if headers is None:
        return await app.auth.identify(stdio_credentials(app))
    return await app.auth.identify(credentials_from_headers(headers))
