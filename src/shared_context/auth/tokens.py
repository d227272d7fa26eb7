"""Agent tokens: HS256 JWTs with the algorithm pinned, issuer and audience checked, and
revocation by token id (refresh) and by API key."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt

from shared_context.domain.clock import Clock
from shared_context.domain.errors import AuthError, ErrorCode, InvalidInput
from shared_context.domain.models import Principal
from shared_context.domain.permissions import parse_permissions
from shared_context.storage.base import Store

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
MAX_TOKEN_CHARS = 4096
MAX_CHECKED = 50_000


def generate_secret() -> str:
    return secrets.token_urlsafe(48)


def check_secret(secret: str) -> str:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise InvalidInput(
            f"The JWT secret must be at least {MIN_SECRET_BYTES} bytes; "
            "set SCS_JWT_SECRET to a longer random value."
        )
    return secret


@dataclass(frozen=True, slots=True)
class MintedToken:
    token: str
    principal: Principal


class TokenService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        secret: str,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        recheck_seconds: float = 1.0,
        fresh: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._recheck = recheck_seconds
        # Applies other processes' commits (their revocations drop remembered checks) before a
        # remembered check is trusted: SPEC §15, see services/cross_process.py.
        self._fresh = fresh
        # Tokens verified lately: token -> (monotonic time of the revocation lookup, decoded).
        # Revocations made by this process drop entries at once; revocations made elsewhere
        # (another instance, `scs keys revoke`) are seen within ``recheck_seconds``.
        self._checked: dict[str, tuple[float, Principal]] = {}
        self.on_revoke: list[Callable[[], None]] = []  # e.g. tell other instances
        self._store = store
        self._clock = clock
        self._secret = check_secret(secret)
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_seconds

    def mint(self, principal: Principal) -> MintedToken:
        now = int(self._clock.now())
        exp = now + self._ttl
        jti = uuid.uuid4().hex
        claims = {
            "sub": principal.agent_id,
            "agent_type": principal.agent_type,
            "permissions": sorted(p.value for p in principal.permissions),
            "key": principal.key_id,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "exp": exp,
            "jti": jti,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return MintedToken(
            token,
            Principal(
                agent_id=principal.agent_id,
                agent_type=principal.agent_type,
                permissions=principal.permissions,
                key_id=principal.key_id,
                token_id=jti,
                expires_at=float(exp),
            ),
        )

    def decode(self, token: str | None) -> Principal:
        """Signature, algorithm, issuer, audience and expiry; no database access."""
        if not token:
            raise AuthError(
                "Authentication required: pass auth_token (from authenticate_agent) or send "
                "'Authorization: Bearer <token>'.",
                code=ErrorCode.AUTH_REQUIRED,
            )
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthError("The token is not valid.", code=ErrorCode.TOKEN_INVALID)
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": ["sub", "exp", "iat", "iss", "aud", "jti"],
                    "verify_iat": False,
                    # Expiry is judged by the injected clock below, the same one that minted.
                    "verify_exp": False,
                },
                leeway=0,
            )
        except jwt.PyJWTError as exc:
            raise AuthError("The token is not valid.", code=ErrorCode.TOKEN_INVALID) from exc
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise AuthError("The token is not valid.", code=ErrorCode.TOKEN_INVALID)
        if exp <= self._clock.now():
            raise AuthError(
                "The token has expired; call refresh_token or authenticate_agent again.",
                code=ErrorCode.TOKEN_EXPIRED,
            )
        try:
            permissions = parse_permissions(claims.get("permissions", []))
        except (InvalidInput, TypeError) as exc:
            raise AuthError("The token is not valid.", code=ErrorCode.TOKEN_INVALID) from exc
        return Principal(
            agent_id=str(claims["sub"]),
            agent_type=str(claims.get("agent_type", "generic")),
            permissions=permissions,
            key_id=str(claims.get("key", "")),
            token_id=str(claims["jti"]),
            expires_at=float(claims["exp"]),
        )

    async def verify(self, token: str | None) -> Principal:
        now = time.monotonic()
        seen = self._checked.get(token) if token else None
        if seen is not None and self._fresh is not None:
            await self._fresh()
            seen = self._checked.get(token or "")
        if (
            seen is not None
            and now - seen[0] < self._recheck
            and seen[1].expires_at > self._clock.now()
        ):
            return seen[1]
        principal = self.decode(token)
        token_revoked, key_revoked = await self._store.token_revocation(
            principal.token_id, principal.key_id
        )
        if token_revoked:
            raise AuthError(
                "The token has been revoked (it was refreshed or logged out).",
                code=ErrorCode.TOKEN_INVALID,
            )
        if key_revoked:
            raise AuthError(
                "The API key this token was minted from has been revoked.",
                code=ErrorCode.TOKEN_INVALID,
            )
        if self._recheck > 0:
            if len(self._checked) >= MAX_CHECKED:
                self._checked.clear()
            self._checked[token or ""] = (now, principal)
        return principal

    async def revoke(self, principal: Principal) -> None:
        await self._store.revoke_token(principal.token_id, principal.expires_at)
        for token, (_, known) in list(self._checked.items()):
            if known.token_id == principal.token_id:
                del self._checked[token]
        for listener in self.on_revoke:
            listener()

    def forget_checks(self) -> None:
        """Look every token up again (called when this process revokes an API key)."""
        self._checked.clear()
