"""Who is calling: the ``auth_token`` argument, else the HTTP bearer header, else (stdio) the
configured agent token. Everything downstream uses the verified ``Principal`` only."""

from __future__ import annotations

from fastmcp.server.dependencies import get_http_headers

from shared_context.domain.models import Principal
from shared_context.services.container import Services


def bearer_token() -> str | None:
    headers = get_http_headers(include={"authorization"})
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def header_api_key() -> str | None:
    return get_http_headers(include={"x-api-key"}).get("x-api-key") or None


async def caller(app: Services, auth_token: str | None) -> Principal:
    return await app.auth.resolve(auth_token or bearer_token())


async def resource_reader(app: Services) -> Principal:
    """Resources carry no arguments: bearer header over HTTP, SCS_AGENT_TOKEN over stdio."""
    token = bearer_token()
    over_http = bool(get_http_headers(include_all=True))
    if token is None and not over_http and app.settings.agent_token is not None:
        token = app.settings.agent_token.get_secret_value()
    return await app.auth.resolve(token)
