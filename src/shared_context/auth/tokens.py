"""Agent tokens: HS256 JWTs with the algorithm pinned, issuer and audience checked, and
revocation by token id (refresh) and by API key."""

from __future__ import annotations

import hashlib
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
# Remembered verifications, keyed by a 16-byte digest of the token (not the token: a token
# may be 4 KB, so 20,000 of them could hold 80 MB); ~0.5 KB each, ~10 MB at most.
MAX_CHECKED = 20_000


def _digest(token: str) -> bytes:
    return hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).digest()


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
        self._checked: dict[bytes, tuple[float, Principal]] = {}
        self._rechecked: dict[str, float] = {}  # token id -> monotonic time of the lookup
        self.check_resets = 0
        self.decodes = 0  # JWTs decoded by ``verify`` (a remembered token is not decoded again)
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
        key = _digest(token) if token and len(token) <= MAX_TOKEN_CHARS else None
        seen = self._checked.get(key) if key else None
        if seen is not None and self._fresh is not None:
            await self._fresh()
            seen = self._checked.get(key) if key else None
        if seen is not None and seen[1].expires_at > self._clock.now():
            if now - seen[0] < self._recheck:
                return seen[1]
            # Past the recheck time only the revocation status can have changed: signature,
            # issuer, audience and claims of this exact token were checked when it was
            # remembered, and expiry just now (issue 15: with 200 agents each calling less
            # often than every recheck time, every call decoded its JWT again).
            principal = seen[1]
        else:
            principal = self.decode(token)
            self.decodes += 1
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
        if self._recheck > 0 and key is not None:
            if len(self._checked) >= MAX_CHECKED:
                self._checked.clear()
                self.check_resets += 1
            self._checked[key] = (now, principal)
        return principal

    async def revoke(self, principal: Principal) -> bool:
        """Revoke the caller's token. True for exactly one caller per token, however many
        race (the database decides); the losers must not be given anything in exchange."""
        claimed = await self._store.revoke_token(principal.token_id, principal.expires_at)
        for token, (_, known) in list(self._checked.items()):
            if known.token_id == principal.token_id:
                del self._checked[token]
        self._rechecked.pop(principal.token_id, None)
        for listener in self.on_revoke:
            listener()
        return claimed

    def confirmed(self, principal: Principal) -> bool | None:
        """Without I/O: False when the identity has expired, True when it was confirmed
        within ``recheck_seconds`` (or has no token to revoke), None when ``recheck`` must
        look it up."""
        if principal.expires_at and principal.expires_at <= self._clock.now():
            return False
        if not principal.token_id:
            return True
        seen = self._rechecked.get(principal.token_id)
        if seen is not None and time.monotonic() - seen < self._recheck:
            return True
        return None

    async def recheck(self, principal: Principal) -> None:
        """Is an identity verified earlier still good (not expired, token and key not
        revoked)? Long-lived holders of a principal (subscriptions, waits, streams) call this
        at delivery time; raises AuthError when it is not. Revocations made by this process
        are seen at once, others within ``recheck_seconds``. A principal not made from a
        token (built in-process, e.g. by the CLI) has nothing to revoke."""
        if principal.expires_at and principal.expires_at <= self._clock.now():
            raise AuthError(
                "The token has expired; call refresh_token or authenticate_agent again.",
                code=ErrorCode.TOKEN_EXPIRED,
            )
        if not principal.token_id:
            return
        now = time.monotonic()
        seen = self._rechecked.get(principal.token_id)
        if seen is not None and now - seen < self._recheck:
            return
        token_revoked, key_revoked = await self._store.token_revocation(
            principal.token_id, principal.key_id
        )
        if token_revoked or key_revoked:
            raise AuthError(
                "The token or the API key it was minted from has been revoked.",
                code=ErrorCode.TOKEN_INVALID,
            )
        if self._recheck > 0:
            if len(self._rechecked) >= MAX_CHECKED:
                self._rechecked.clear()
            self._rechecked[principal.token_id] = now

    def stats(self) -> dict[str, int]:
        """Figures for get_performance_metrics (section ``token_checks``)."""
        return {
            "verified_remembered": len(self._checked),
            "rechecked_remembered": len(self._rechecked),
            "max_entries": MAX_CHECKED,
            "resets": self.check_resets,
            "decoded": self.decodes,
        }

    def forget_checks(self) -> None:
        """Look every token up again (called when this process revokes an API key)."""
        self._checked.clear()
        self._rechecked.clear()
