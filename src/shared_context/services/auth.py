"""Authenticating agents, refreshing tokens, and resolving a token to the verified caller.

Failed authentications are rate-limited per presented key prefix and per claimed agent id,
and their audit rows are budgeted and aggregated (``domain.auth_failures``). A login's own
audit row never blocks it: on a full disk the login succeeds and the row is skipped (logged).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from shared_context.auth.keys import KeyRing
from shared_context.auth.tokens import TokenService
from shared_context.domain.auth_failures import AuthFailureGuard, agent_bucket, key_bucket
from shared_context.domain.bindings import require_allowed
from shared_context.domain.clock import iso
from shared_context.domain.errors import (
    AuthError,
    ErrorCode,
    InvalidInput,
    PermissionDenied,
    StorageError,
)
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
from shared_context.services.results import TokenResult

Touch = Callable[[Principal], None]
log = logging.getLogger(__name__)


class AuthService:
    def __init__(
        self,
        keys: KeyRing,
        tokens: TokenService,
        audit: AuditRecorder,
        guard: AuthFailureGuard,
    ) -> None:
        self.keys = keys
        self.tokens = tokens
        self._audit = audit
        self._touch: list[Touch] = []
        self.guard = guard
        self.connections = ConnectionIdentities(keys, audit)

    def on_authenticated(self, touch: Touch) -> None:
        """Called with every verified caller (presence uses it to refresh last_seen)."""
        self._touch.append(touch)

    async def authenticate(
        self,
        agent_id: str,
        agent_type: str,
        api_key: str | None,
        requested_permissions: list[str] | None,
    ) -> TokenResult:
        claimed = agent_id
        buckets = (agent_bucket(claimed), key_bucket(api_key))
        now = time.monotonic()
        self.guard.check(now, *buckets)  # over the limit: refused before the key is looked up
        try:
            check_agent_id(agent_id)
            check_agent_type(agent_type)
            if requested_permissions is None:
                requested_permissions = ["read", "write"]
            if len(requested_permissions) > 3:
                raise InvalidInput("requested_permissions must be a list of read, write, admin.")
            requested = parse_permissions(requested_permissions)
            key = await self.keys.verify(api_key)
            require_allowed(key.agents, agent_id, key.name)
        except (AuthError, InvalidInput, PermissionDenied) as exc:
            if self.guard.failed(now, *buckets):
                await self._record_quietly(
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
        await self._record_quietly(
            "authenticate",
            minted.principal,
            key=key.name,
            permissions=sorted(p.value for p in granted),
        )
        return TokenResult(
            token=minted.token,
            agent_id=agent_id,
            agent_type=agent_type,
            permissions=sorted(p.value for p in granted),
            expires_at=iso(minted.principal.expires_at),
            token_type="Bearer",
        )

    async def resolve(self, token: str | None) -> Principal:
        try:
            principal = await self.tokens.verify(token)
        except AuthError as exc:
            # A missing token is not an attempt; a bad one is recorded, within the budget.
            if token and self.guard.failed(time.monotonic()):
                await self._record_quietly(
                    "token_rejected", None, outcome=FAILURE, code=exc.code.value
                )
            raise
        for touch in self._touch:
            touch(principal)
        return principal

    async def flush_failures(self) -> int:
        """One aggregate audit row for the failures the budget did not record one by one."""
        count = self.guard.drain_suppressed()
        if count:
            await self._record_quietly(
                "auth_failures_aggregated", None, outcome=FAILURE, count=count
            )
        return count

    async def _record_quietly(
        self, event_type: str, principal: Principal | None, **kw: Any
    ) -> None:
        """An audit row that must not fail its operation when the disk is full."""
        try:
            await self._audit.record(event_type, principal, **kw)
        except StorageError as exc:
            if exc.code is not ErrorCode.STORAGE_FULL:
                raise
            log.warning("audit row %s skipped: the database disk is full", event_type)

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

    async def refresh(self, principal: Principal) -> TokenResult:
        # Single use: revoking the old token is the claim, decided by the database; only the
        # one call that revoked it gets a new token, however many refreshes race.
        if not await self.tokens.revoke(principal):
            await self._audit.record(
                "refresh_token", principal, outcome=FAILURE, code=ErrorCode.TOKEN_INVALID.value
            )
            raise AuthError(
                "The token has already been refreshed or revoked; authenticate again.",
                code=ErrorCode.TOKEN_INVALID,
            )
        minted = self.tokens.mint(principal)
        if not is_connection_identity(principal):  # which has no token to revoke
            await self.tokens.revoke(principal)
        await self._audit.record("refresh_token", principal)
        return TokenResult(
            token=minted.token,
            agent_id=principal.agent_id,
            agent_type=principal.agent_type,
            permissions=sorted(p.value for p in principal.permissions),
            expires_at=iso(minted.principal.expires_at),
            token_type="Bearer",
        )
