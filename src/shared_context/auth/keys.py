"""API keys: generated with high entropy, stored only as SHA-256 hashes, compared in constant
time. Plain text exists only when created (shown once) or given by configuration."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable

from shared_context.domain.bindings import parse_binding
from shared_context.domain.clock import Clock
from shared_context.domain.errors import AuthError, ErrorCode, InvalidInput
from shared_context.domain.models import ApiKey
from shared_context.domain.permissions import Permission
from shared_context.storage.base import Store

KEY_PREFIX = "scs_"
MAX_KEY_CHARS = 512
MAX_REMEMBERED = 10_000


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def key_id_for(key_hash: str) -> str:
    return "k_" + key_hash[:16]


class KeyRing:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        recheck_seconds: float = 1.0,
        fresh: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.on_revoke: list[Callable[[], None]] = []  # e.g. drop cached token checks
        self._store = store
        self._clock = clock
        self._recheck = recheck_seconds
        # Applies other processes' changes first (their revocations drop remembered keys).
        self._fresh = fresh
        # Keys verified lately (connection identities verify on every request):
        # hash -> (monotonic time of the lookup, key). Bounded; dropped on local revocation.
        self._verified: dict[str, tuple[float, ApiKey]] = {}

    async def add(
        self,
        name: str,
        plain: str,
        permissions: Iterable[Permission],
        agents: Iterable[str] = (),
    ) -> ApiKey:
        """Install a key given by configuration; an existing key keeps its row, but takes the
        configured binding."""
        if not plain or len(plain) > MAX_KEY_CHARS:
            raise InvalidInput(f"An API key must be 1-{MAX_KEY_CHARS} characters.")
        digest = hash_key(plain)
        key = ApiKey(
            key_id=key_id_for(digest),
            name=name,
            permissions=frozenset(permissions),
            created_at=self._clock.now(),
            agents=parse_binding(agents),
        )
        if not await self._store.add_api_key(key, digest):
            found = await self._store.find_api_key_by_hash(digest)
            if found is not None and found.agents != key.agents:
                await self._store.bind_api_key(found.key_id, key.agents)
                self.forget_checks()
        return key

    async def find(self, plain: str) -> ApiKey | None:
        """The stored key for this plain text (revoked or not), without raising."""
        if not plain or len(plain) > MAX_KEY_CHARS:
            return None
        return await self._store.find_api_key_by_hash(hash_key(plain))

    async def create(
        self, name: str, permissions: Iterable[Permission], agents: Iterable[str] = ()
    ) -> tuple[ApiKey, str]:
        """A new random key; the plain text is returned once and never stored. ``agents``
        binds it (ids and ``prefix*`` patterns); empty: a team key."""
        if not name or len(name) > 100:
            raise InvalidInput("A key name must be 1-100 characters.")
        plain = generate_key()
        digest = hash_key(plain)
        key = ApiKey(
            key_id=key_id_for(digest),
            name=name,
            permissions=frozenset(permissions),
            created_at=self._clock.now(),
            agents=parse_binding(agents),
        )
        if not await self._store.add_api_key(key, digest):
            raise InvalidInput(f"A key named {name!r} already exists.", code=ErrorCode.KEY_EXISTS)
        return key, plain

    async def verify(self, plain: str | None) -> ApiKey:
        if not plain:
            raise AuthError(
                "An API key is required: pass api_key or send the X-API-Key header.",
                code=ErrorCode.INVALID_API_KEY,
            )
        if len(plain) > MAX_KEY_CHARS:
            raise AuthError("The API key is not valid.", code=ErrorCode.INVALID_API_KEY)
        digest = hash_key(plain)
        key = await self._store.find_api_key_by_hash(digest)
        # The lookup is by hash; the comparison below is constant-time on the hash anyway.
        if key is None or not hmac.compare_digest(key_id_for(digest), key.key_id):
            raise AuthError("The API key is not valid.", code=ErrorCode.INVALID_API_KEY)
        if key.revoked_at is not None:
            raise AuthError("The API key has been revoked.", code=ErrorCode.INVALID_API_KEY)
        return key

    async def verify_cached(self, plain: str | None) -> ApiKey:
        """``verify``, remembered for ``recheck_seconds`` (revocations by this process apply at
        once, by others within that time, as for tokens). Refusals are never remembered."""
        digest = hash_key(plain) if plain and len(plain) <= MAX_KEY_CHARS else ""
        now = time.monotonic()
        seen = self._verified.get(digest) if digest else None
        if seen is not None and self._fresh is not None:
            await self._fresh()
            seen = self._verified.get(digest)
        if seen is not None and now - seen[0] < self._recheck:
            return seen[1]
        key = await self.verify(plain)
        if self._recheck > 0:
            if len(self._verified) >= MAX_REMEMBERED:
                self._verified.clear()
            self._verified[digest] = (now, key)
        return key

    def forget_checks(self) -> None:
        self._verified.clear()

    async def list(self) -> list[ApiKey]:
        return await self._store.list_api_keys()

    async def revoke(self, name_or_id: str) -> bool:
        revoked = await self._store.revoke_api_key(name_or_id, self._clock.now())
        self.forget_checks()
        for listener in self.on_revoke:
            listener()
        return revoked
