"""Secrets, API keys and token revocation behave alike on every backend."""

from __future__ import annotations

from typing import Any

from shared_context.domain.models import ApiKey
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS
from tests.contract.storage.factories import NOW


async def test_secret_is_created_once_and_then_kept(store: Any) -> None:
    assert await store.get_or_create_secret("jwt", "first-candidate") == "first-candidate"
    assert await store.get_or_create_secret("jwt", "second-candidate") == "first-candidate"
    assert await store.get_or_create_secret("other", "x") == "x"


async def test_api_keys_add_find_list_and_revoke(store: Any) -> None:
    agent = ApiKey("k_1", "agent", AGENT_CEILING, NOW)
    admin = ApiKey("k_2", "admin", ALL_PERMISSIONS, NOW + 1)
    assert await store.add_api_key(agent, "hash-1") is True
    assert await store.add_api_key(admin, "hash-2") is True
    assert await store.add_api_key(ApiKey("k_3", "agent", AGENT_CEILING, NOW), "h3") is False
    assert await store.add_api_key(ApiKey("k_4", "fresh", AGENT_CEILING, NOW), "hash-1") is False

    found = await store.find_api_key_by_hash("hash-2")
    assert found == admin
    assert await store.find_api_key_by_hash("missing") is None
    assert [k.key_id for k in await store.list_api_keys()] == ["k_1", "k_2"]

    assert await store.token_revocation("jti-1", "k_1") == (False, False)
    assert await store.revoke_api_key("agent", NOW + 5) is True
    assert await store.revoke_api_key("k_1", NOW + 6) is False
    assert await store.token_revocation("jti-1", "k_1") == (False, True)
    assert await store.token_revocation("jti-1", "k_unknown") == (False, True)
    listed = {k.key_id: k for k in await store.list_api_keys()}
    assert listed["k_1"].revoked_at == NOW + 5
    assert listed["k_2"].revoked_at is None
    assert await store.revoke_api_key("k_2", NOW + 7) is True


async def test_revoked_token_is_remembered_and_revoking_twice_is_harmless(store: Any) -> None:
    await store.add_api_key(ApiKey("k_1", "agent", AGENT_CEILING, NOW), "hash-1")
    await store.revoke_token("jti-9", NOW + 3600)
    await store.revoke_token("jti-9", NOW + 3600)
    assert await store.token_revocation("jti-9", "k_1") == (True, False)


async def test_key_bindings_are_stored_and_replaced(store: Any) -> None:
    bound = ApiKey("k_b", "bound", AGENT_CEILING, NOW, agents=("alice", "claude-*"))
    assert await store.add_api_key(bound, "hash-b") is True
    assert await store.add_api_key(ApiKey("k_t", "team", AGENT_CEILING, NOW), "hash-t") is True
    found = await store.find_api_key_by_hash("hash-b")
    assert found is not None and found.agents == ("alice", "claude-*")
    await store.bind_api_key("k_b", ("gemini-*",))
    await store.bind_api_key("k_t", ())
    listed = {k.name: k.agents for k in await store.list_api_keys()}
    assert listed == {"bound": ("gemini-*",), "team": ()}
