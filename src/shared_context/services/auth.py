"""Authenticating agents, refreshing tokens, and resolving a token to the verified caller."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shared_context.auth.keys import KeyRing
from shared_context.auth.tokens import TokenService
from shared_context.domain.bindings import require_allowed
from shared_context.domain.clock import iso
from shared_context.domain.errors import AuthError, InvalidInput, PermissionDenied
from shared_context.domain.ids import check_agent_id, check_agent_type
from shared_context.domain.models import Principal
from shared_context.domain.permissions import parse_permissions
from shared_context.services.audit import FAILURE, AuditRecorder
from shared_context.services.identity import (
    ConnectionIdentities,
    Credentials,
    is_connection_identity,
    nothing_presented,
)

Touch = Callable[[Principal], None]


class AuthService:
    def __init__(self, keys: KeyRing, tokens: TokenService, audit: AuditRecorder) -> None:
        self.keys = keys
        self.tokens = tokens
        self._audit = audit
        self._touch: list[Touch] = []
        self.connections = ConnectionIdentities(keys, audit)

    def on_authenticated(self, touch: Touch) -> None:
        """Called with every verified caller (presence uses it to refresh last_seen)."""
        self._touch.append(touch)

    async def authenticate(
        self,
        agent_id: str,
        agent_type: str,
        api_key: str | None,
        requested_permissions: Sequence[str] | None,
    ) -> dict[str, Any]:
        claimed = agent_id if isinstance(agent_id, str) else None
        try:
            check_agent_id(agent_id)
            check_agent_type(agent_type)
            if requested_permissions is None:
                requested_permissions = ["read", "write"]
            if (
                not isinstance(requested_permissions, list | tuple)
                or len(requested_permissions) > 3
            ):
                raise InvalidInput("requested_permissions must be a list of read, write, admin.")
            requested = parse_permissions(requested_permissions)
            key = await self.keys.verify(api_key)
            require_allowed(key.agents, agent_id, key.name)
        except (AuthError, InvalidInput, PermissionDenied) as exc:
            await self._audit.record(
                "authenticate",
                None,
                agent_id=(claimed or "")[:100] or None,
                outcome=FAILURE,
                code=exc.code.value,
            )
            raise
        granted = requested & key.permissions
        minted = self.tokens.mint(
            Principal(
                agent_id=agent_id,
                agent_type=agent_type,
                permissions=granted,
                key_id=key.key_id,
            )
        )
        await self._audit.record(
            "authenticate",
            minted.principal,
            key=key.name,
            permissions=sorted(p.value for p in granted),
        )
        return {
            "success": True,
            "token": minted.token,
            "agent_id": agent_id,
            "agent_type": agent_type,
            "permissions": sorted(p.value for p in granted),
            "expires_at": iso(minted.principal.expires_at),
            "token_type": "Bearer",
        }

    async def resolve(self, token: str | None) -> Principal:
        try:
            principal = await self.tokens.verify(token)
        except AuthError as exc:
            if token:  # a missing token is not an attempt; a bad one is recorded
                await self._audit.record(
                    "token_rejected", None, outcome=FAILURE, code=exc.code.value
                )
            raise
        for touch in self._touch:
            touch(principal)
        return principal

    async def identify(self, credentials: Credentials) -> Principal:
        """The one identity resolver for every transport (tools, resources, subscriptions,
        dashboard): the auth_token argument, else the bearer token, else the connection
        identity (HTTP headers or the stdio server's environment)."""
        token = credentials.token
        if token:
            return await self.resolve(token)
        if not credentials.has_connection_identity:
            raise nothing_presented(credentials.origin)
        principal = await self.connections.resolve(credentials)
        for touch in self._touch:
            touch(principal)
        return principal

    async def refresh(self, principal: Principal) -> dict[str, Any]:
        minted = self.tokens.mint(principal)
        if not is_connection_identity(principal):  # which has no token to revoke
            await self.tokens.revoke(principal)
        await self._audit.record("refresh_token", principal)
        return {
            "success": True,
            "token": minted.token,
            "agent_id": principal.agent_id,
            "agent_type": principal.agent_type,
            "permissions": sorted(p.value for p in principal.permissions),
            "expires_at": iso(minted.principal.expires_at),
            "token_type": "Bearer",
        }
