"""The authentication and permission matrix (SPEC §2), through the in-process client."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from fastmcp import Client

from shared_context.auth.tokens import TokenService
from shared_context.domain.clock import ManualClock
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING, Permission
from shared_context.mcp.server import build_mcp
from shared_context.services.container import Services
from tests.helpers import ADMIN_KEY, AGENT_KEY, JWT_SECRET, call, fail, login

OTHER_SECRET = "another-secret-that-is-long-enough-0123456789"


@pytest.fixture
async def clocked_client(clocked_services: Services) -> AsyncIterator[Client]:
    async with Client(build_mcp(clocked_services)) as connected:
        yield connected


async def audit_rows(services: Services, event_type: str) -> list[tuple[Any, ...]]:
    def fn(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return conn.execute(
            "SELECT agent_id, outcome, details FROM audit_log WHERE event_type = ? ORDER BY id",
            (event_type,),
        ).fetchall()

    rows: list[tuple[Any, ...]] = await services.store.read(fn)  # type: ignore[attr-defined]
    return rows


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "mallory",
        "agent_type": "claude",
        "permissions": ["read", "write", "admin"],
        "key": "k_0000000000000000",
        "iss": "shared-context-server",
        "aud": "shared-context-agents",
        "iat": now,
        "exp": now + 600,
        "jti": "f" * 32,
    }
    base.update(overrides)
    return base


async def code_of(client: Client, token: str | None, tool: str = "list_sessions") -> str:
    args: dict[str, Any] = {} if token is None else {"auth_token": token}
    body = await fail(client, tool, **args)
    return str(body["code"])


async def test_no_token_is_auth_required(client: Client) -> None:
    for tool, args in (
        ("list_sessions", {}),
        ("create_session", {"purpose": "x"}),
        ("get_messages", {"session_id": "session_0123456789abcdef"}),
        ("refresh_token", {}),
    ):
        body = await fail(client, tool, **args)
        assert body["code"] == "AUTH_REQUIRED", tool
        assert "authenticate_agent" in body["message"]


async def test_expired_token(clocked_client: Client, clock: ManualClock) -> None:
    token = await login(clocked_client, "alice")
    await call(clocked_client, "list_sessions", auth_token=token)
    clock.advance(3600)
    body = await fail(clocked_client, "list_sessions", auth_token=token)
    assert body["code"] == "TOKEN_EXPIRED"
    assert "refresh_token" in body["message"]


async def test_expiry_follows_the_injected_clock_even_in_the_past(
    clocked_services: Services, clock: ManualClock
) -> None:
    # A clock far behind real time: pyjwt's own wall-clock check must not decide expiry.
    clock.set(1_000_000_000.0)
    tokens = clocked_services.auth.tokens
    minted = tokens.mint(Principal("alice", "claude", frozenset({Permission.READ}), key_id="k_x"))
    assert tokens.decode(minted.token).agent_id == "alice"
    clock.advance(3601)
    with pytest.raises(Exception, match="expired"):
        tokens.decode(minted.token)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: jwt.encode(claims(), OTHER_SECRET, algorithm="HS256"), id="secret"),
        pytest.param(
            lambda: jwt.encode(claims(), None, algorithm="none"),  # type: ignore[arg-type]
            id="alg-none",
        ),
        pytest.param(
            lambda: jwt.encode(claims(), JWT_SECRET * 2, algorithm="HS512"), id="alg-hs512"
        ),
        pytest.param(
            lambda: jwt.encode(claims(aud="someone-else"), JWT_SECRET, algorithm="HS256"),
            id="aud",
        ),
        pytest.param(
            lambda: jwt.encode(claims(iss="evil-issuer"), JWT_SECRET, algorithm="HS256"),
            id="iss",
        ),
        pytest.param(
            lambda: jwt.encode(
                {k: v for k, v in claims().items() if k != "jti"}, JWT_SECRET, algorithm="HS256"
            ),
            id="no-jti",
        ),
        pytest.param(
            lambda: jwt.encode(claims(exp="soon"), JWT_SECRET, algorithm="HS256"),
            id="exp-not-a-number",
        ),
        pytest.param(
            lambda: jwt.encode(claims(permissions="admin"), JWT_SECRET, algorithm="HS256"),
            id="permissions-not-a-list",
        ),
        pytest.param(
            lambda: jwt.encode(claims(permissions=[7]), JWT_SECRET, algorithm="HS256"),
            id="permissions-garbage",
        ),
        pytest.param(lambda: "garbage", id="garbage"),
        pytest.param(lambda: "a.b.c", id="three-dots"),
        pytest.param(lambda: "x" * 4096, id="long"),
    ],
)
async def test_forged_or_malformed_tokens_are_invalid(client: Client, make: Any) -> None:
    assert await code_of(client, make()) == "TOKEN_INVALID"


async def test_token_signed_with_our_secret_but_unknown_key_is_invalid(client: Client) -> None:
    # Right secret, but minted from a key that does not exist: treated like a revoked key.
    token = jwt.encode(claims(), JWT_SECRET, algorithm="HS256")
    assert await code_of(client, token) == "TOKEN_INVALID"


async def test_refreshed_token_is_revoked(client: Client) -> None:
    old = await login(client, "alice")
    body = await call(client, "refresh_token", auth_token=old)
    new = body["token"]
    assert new != old
    assert body["agent_id"] == "alice"
    assert body["permissions"] == ["read", "write"]
    assert await code_of(client, old) == "TOKEN_INVALID"
    await call(client, "list_sessions", auth_token=new)
    refused = await fail(client, "refresh_token", auth_token=old)
    assert refused["code"] == "TOKEN_INVALID"


async def test_refresh_over_bearer_less_call_needs_a_token(client: Client) -> None:
    assert (await fail(client, "refresh_token"))["code"] == "AUTH_REQUIRED"


async def test_token_from_revoked_key_is_invalid(client: Client, services: Services) -> None:
    key, plain = await services.auth.keys.create("temporary", AGENT_CEILING)
    body = await call(
        client, "authenticate_agent", agent_id="temp", agent_type="script", api_key=plain
    )
    token = body["token"]
    await call(client, "list_sessions", auth_token=token)
    assert await services.auth.keys.revoke(key.name)
    assert await code_of(client, token) == "TOKEN_INVALID"
    again = await fail(
        client, "authenticate_agent", agent_id="temp", agent_type="script", api_key=plain
    )
    assert again["code"] == "INVALID_API_KEY"
    assert not await services.auth.keys.revoke(key.key_id)  # already revoked


@pytest.mark.parametrize("api_key", [None, "", "wrong-key", "x" * 512, AGENT_KEY + " "])
async def test_bad_api_key(client: Client, api_key: str | None) -> None:
    args: dict[str, Any] = {"agent_id": "alice", "agent_type": "claude"}
    if api_key is not None:
        args["api_key"] = api_key
    body = await fail(client, "authenticate_agent", **args)
    assert body["code"] == "INVALID_API_KEY"


async def test_api_key_longer_than_allowed_is_refused(client: Client) -> None:
    body = await fail(
        client, "authenticate_agent", agent_id="alice", agent_type="claude", api_key="x" * 513
    )
    assert body["code"] in {"INVALID_API_KEY", "INVALID_INPUT"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("agent_id", ""),
        ("agent_id", "-leading-dash"),
        ("agent_id", "a" * 101),
        ("agent_id", "has space"),
        ("agent_id", "robert'); DROP TABLE messages;--"),
        ("agent_type", ""),
        ("agent_type", "x" * 51),
        ("requested_permissions", ["read", "root"]),
    ],
)
async def test_bad_authentication_arguments(client: Client, field: str, value: Any) -> None:
    args: dict[str, Any] = {"agent_id": "alice", "agent_type": "claude", "api_key": AGENT_KEY}
    args[field] = value
    body = await fail(client, "authenticate_agent", **args)
    assert body["code"] == "INVALID_INPUT"


async def test_read_only_agent_cannot_write(client: Client) -> None:
    writer = await login(client, "alice")
    sid = (await call(client, "create_session", purpose="p", auth_token=writer))["session_id"]
    message_id = (
        await call(client, "add_message", session_id=sid, content="hi", auth_token=writer)
    )["message_id"]
    reader = await login(client, "reader", permissions=["read"])
    for tool, args in (
        ("create_session", {"purpose": "x"}),
        ("add_message", {"session_id": sid, "content": "x"}),
        ("close_session", {"session_id": sid}),
        (
            "set_message_visibility",
            {"session_id": sid, "message_id": message_id, "visibility": "private"},
        ),
    ):
        body = await fail(client, tool, auth_token=reader, **args)
        assert body["code"] == "PERMISSION_DENIED", tool
    assert len((await call(client, "get_messages", session_id=sid, auth_token=reader))["messages"])
    await call(client, "get_session", session_id=sid, auth_token=reader)


async def test_write_only_agent_cannot_read(client: Client) -> None:
    writer = await login(client, "alice")
    sid = (await call(client, "create_session", purpose="p", auth_token=writer))["session_id"]
    blind = await login(client, "blind", permissions=["write"])
    for tool in ("get_messages", "get_messages_advanced", "get_session"):
        body = await fail(client, tool, session_id=sid, auth_token=blind)
        assert body["code"] == "PERMISSION_DENIED", tool
    assert (await fail(client, "list_sessions", auth_token=blind))["code"] == "PERMISSION_DENIED"


async def test_granted_is_requested_intersected_with_ceiling(client: Client) -> None:
    body = await call(
        client,
        "authenticate_agent",
        agent_id="sneaky",
        agent_type="claude",
        api_key=AGENT_KEY,
        requested_permissions=["read", "write", "admin"],
    )
    assert body["permissions"] == ["read", "write"]
    token = body["token"]
    sid = (await call(client, "create_session", purpose="p", auth_token=token))["session_id"]
    denied = await fail(
        client,
        "add_message",
        session_id=sid,
        content="x",
        visibility="admin_only",
        auth_token=token,
    )
    assert denied["code"] == "PERMISSION_DENIED"
    peek = await fail(
        client, "get_messages_advanced", session_id=sid, include_admin_only=True, auth_token=token
    )
    assert peek["code"] == "PERMISSION_DENIED"

    admin_read = await call(
        client,
        "authenticate_agent",
        agent_id="auditor",
        agent_type="ops",
        api_key=ADMIN_KEY,
        requested_permissions=["read"],
    )
    assert admin_read["permissions"] == ["read"]
    default = await call(
        client, "authenticate_agent", agent_id="boss", agent_type="ops", api_key=ADMIN_KEY
    )
    assert default["permissions"] == ["read", "write"]


async def test_non_admin_cannot_post_admin_only_or_reveal_as_admin_only(client: Client) -> None:
    alice = await login(client, "alice")
    admin = await login(client, "root", "ops", admin=True)
    sid = (await call(client, "create_session", purpose="p", auth_token=alice))["session_id"]
    mid = (await call(client, "add_message", session_id=sid, content="x", auth_token=alice))[
        "message_id"
    ]
    body = await fail(
        client,
        "set_message_visibility",
        session_id=sid,
        message_id=mid,
        visibility="admin_only",
        auth_token=alice,
    )
    assert body["code"] == "PERMISSION_DENIED"
    await call(
        client,
        "set_message_visibility",
        session_id=sid,
        message_id=mid,
        visibility="admin_only",
        auth_token=admin,
    )
    seen = await call(client, "get_messages", session_id=sid, auth_token=alice)
    assert seen["messages"] == []


async def test_authentication_attempts_are_audited_without_secrets(
    client: Client, services: Services
) -> None:
    token = await login(client, "alice")
    await fail(client, "authenticate_agent", agent_id="alice", api_key="nope")
    await fail(client, "authenticate_agent", agent_id="bad id", api_key=AGENT_KEY)
    await fail(client, "list_sessions", auth_token="garbage")
    attempts = await audit_rows(services, "authenticate")
    outcomes = [(agent, outcome) for agent, outcome, _ in attempts]
    assert outcomes == [("alice", "success"), ("alice", "failure"), ("bad id", "failure")]
    assert '"INVALID_API_KEY"' in attempts[1][2]
    rejected = await audit_rows(services, "token_rejected")
    assert [(agent, outcome) for agent, outcome, _ in rejected] == [(None, "failure")]

    def everything(conn: sqlite3.Connection) -> str:
        return repr(conn.execute("SELECT * FROM audit_log").fetchall())

    dump: str = await services.store.read(everything)  # type: ignore[attr-defined]
    for secret in (token, AGENT_KEY, "nope", JWT_SECRET):
        assert secret not in dump


async def test_token_service_refuses_short_secret(services: Services) -> None:
    with pytest.raises(Exception, match="at least 32 bytes"):
        TokenService(
            services.store,
            services.clock,
            secret="short",
            issuer="i",
            audience="a",
            ttl_seconds=60,
        )
