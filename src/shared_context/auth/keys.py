"""API keys: generated with high entropy, stored only as SHA-256 hashes, compared in constant
time. Plain text exists only when created (shown once) or given by configuration."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable

from shared_context.domain.clock import Clock
from shared_context.domain.errors import AuthError, ErrorCode, InvalidInput
from shared_context.domain.models import ApiKey
from shared_context.domain.permissions import Permission
from shared_context.storage.base import Store

KEY_PREFIX = "scs_"
MAX_KEY_CHARS = 512


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def key_id_for(key_hash: str) -> str:
    return "k_" + key_hash[:16]


class KeyRing:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.on_revoke: list[Callable[[], None]] = []  # e.g. drop cached token checks
        self._store = store
        self._clock = clock

    async def add(self, name: str, plain: str, permissions: Iterable[Permission]) -> ApiKey:
        if not plain or len(plain) > MAX_KEY_CHARS:
            raise InvalidInput(f"An API key must be 1-{MAX_KEY_CHARS} characters.")
        digest = hash_key(plain)
        key = ApiKey(
            key_id=key_id_for(digest),
            name=name,
            permissions=frozenset(permissions),
            created_at=self._clock.now(),
        )
        await self._store.add_api_key(key, digest)
        return key

    async def create(self, name: str, permissions: Iterable[Permission]) -> tuple[ApiKey, str]:
        """A new random key; the plain text is returned once and never stored."""
        if not name or len(name) > 100:
            raise InvalidInput("A key name must be 1-100 characters.")
        plain = generate_key()
        digest = hash_key(plain)
        key = ApiKey(
            key_id=key_id_for(digest),
            name=name,
            permissions=frozenset(permissions),
            created_at=self._clock.now(),
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

    async def list(self) -> list[ApiKey]:
        return await self._store.list_api_keys()

    async def revoke(self, name_or_id: str) -> bool:
        revoked = await self._store.revoke_api_key(name_or_id, self._clock.now())
        for listener in self.on_revoke:
            listener()
        return revoked
