"""Verified tokens are remembered for a short while; revocations still apply."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from shared_context.bootstrap import open_services
from shared_context.domain.clock import ManualClock
from shared_context.domain.errors import AuthError, ErrorCode
from shared_context.services.container import Services
from shared_context.storage.sqlite.store import SqliteStore
from tests.conftest import make_settings
from tests.helpers import AGENT_KEY


async def token_for(app: Services, agent: str = "alice") -> str:
    body = await app.auth.authenticate(agent, "claude", AGENT_KEY, ["read", "write"])
    return body.token


async def test_a_key_revoked_by_another_process_is_refused_within_the_recheck_time(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "d", revocation_recheck_seconds=0.2)
    async with open_services(settings) as app:
        token = await token_for(app)
        assert (await app.auth.resolve(token)).agent_id == "alice"
        store = app.store
        assert isinstance(store, SqliteStore)
        other = sqlite3.connect(store.path)  # as `scs keys revoke` in another process would
        other.execute("UPDATE api_keys SET revoked_at = 1 WHERE name LIKE 'env:agent:%'")
        other.commit()
        other.close()
        refused = None
        async with asyncio.timeout(5):
            while refused is None:
                try:
                    await app.auth.resolve(token)
                except AuthError as exc:
                    refused = exc
                await asyncio.sleep(0.02)
        assert refused.code is ErrorCode.TOKEN_INVALID


async def refusal(app: Services, token: str) -> ErrorCode | None:
    """The code a token is refused with, or None when it is accepted."""
    try:
        await app.auth.resolve(token)
    except AuthError as exc:
        return exc.code
    return None


async def test_local_revocations_apply_at_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", revocation_recheck_seconds=60)
    async with open_services(settings) as app:
        token = await token_for(app)
        principal = await app.auth.resolve(token)
        await app.auth.refresh(principal)
        assert await refusal(app, token) is ErrorCode.TOKEN_INVALID, (
            "a refreshed token was still accepted"
        )
        second = await token_for(app, "bob")
        await app.auth.resolve(second)
        revoked = [k for k in await app.auth.keys.list() if k.name.startswith("env:agent:")]
        assert await app.auth.keys.revoke(revoked[0].key_id)
        assert await refusal(app, second) is ErrorCode.TOKEN_INVALID, (
            "a token of a revoked key was still accepted"
        )


async def test_a_remembered_token_still_expires_on_time(tmp_path: Path) -> None:
    clock = ManualClock(1_900_000_000.0)
    settings = make_settings(tmp_path / "d", revocation_recheck_seconds=60)
    async with open_services(settings, clock=clock) as app:
        token = await token_for(app)
        await app.auth.resolve(token)
        clock.advance(settings.token_ttl_seconds)
        assert await refusal(app, token) is ErrorCode.TOKEN_EXPIRED, (
            "an expired token was accepted from the cache"
        )


async def decoded_over(app: Services, token: str, *, calls: int, pause: float = 0.0) -> int:
    """How many JWT decodes ``calls`` resolutions of one token cost (``pause`` s after each)."""
    before = app.auth.tokens.stats()["decoded"]
    for _ in range(calls):
        assert (await app.auth.resolve(token)).agent_id == "alice"
        await asyncio.sleep(pause)
    decoded: int = app.auth.tokens.stats()["decoded"] - before
    return decoded


async def test_a_remembered_token_is_not_decoded_again_but_its_revocation_is_looked_up(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "d", revocation_recheck_seconds=0)  # look up every call
    async with open_services(settings) as app:
        token = await token_for(app)
        # recheck 0 remembers nothing: each call decodes and looks up
        assert await decoded_over(app, token, calls=3) == 3

    settings = make_settings(tmp_path / "e", revocation_recheck_seconds=0.01)
    async with open_services(settings) as app:
        token = await token_for(app)
        # past the recheck time after each call: only the revocation is looked up again
        assert await decoded_over(app, token, calls=3, pause=0.02) == 1
        store = app.store
        assert isinstance(store, SqliteStore)
        other = sqlite3.connect(store.path)  # revoked elsewhere, after it was remembered
        other.execute("UPDATE api_keys SET revoked_at = 1 WHERE name LIKE 'env:agent:%'")
        other.commit()
        other.close()
        await asyncio.sleep(0.02)
        assert await refusal(app, token) is ErrorCode.TOKEN_INVALID, (
            "a remembered token of a revoked key was still accepted"
        )
