"""Connection identity: who a request is when it carries no token.

An HTTP connection may present ``X-API-Key`` + ``X-Agent-Id`` + ``X-Agent-Type`` (+
``X-Agent-Permissions``); a stdio server may be started with ``SCS_API_KEY`` +
``SCS_AGENT_ID`` + ``SCS_AGENT_TYPE`` (+ ``SCS_AGENT_PERMISSIONS``). Either becomes exactly
the ``Principal`` that ``authenticate_agent`` would have put in a token: requested
permissions (default read, write) ∩ the key's ceiling, and only an agent id the key's binding
allows. ``AuthService.identify`` is the one entry point (tools, resources, subscriptions, the
dashboard): ``auth_token`` > bearer > connection identity.

MCP protocol 2026-07-28 has no protocol sessions, so an identity is resolved per request.
That stays cheap: the key lookup is remembered briefly by ``KeyRing.verify_cached``, the rest
is validation in memory. Each distinct identity is audited once (a bounded memory of those
seen), like a login, not once per call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from shared_context.auth.keys import KeyRing, hash_key
from shared_context.domain.bindings import require_allowed
from shared_context.domain.errors import AuthError, ErrorCode, InvalidInput, SharedContextError
from shared_context.domain.ids import check_agent_id, check_agent_type
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING, parse_permissions
from shared_context.services.audit import FAILURE, AuditRecorder

Origin = Literal["http", "stdio"]
MAX_SEEN = 10_000
MAX_PERMISSIONS_CHARS = 64
DEFAULT_AGENT_TYPE = "generic"
# A connection identity has no token; its Principal carries this pseudo token id instead, so
# checks that look a token id up (revocation re-checks of long-lived subscriptions) still see
# the key's revocation, and refresh_token knows there is no token to revoke.
CONNECTION_PREFIX = "connection:"

# How each credential is named to the user, per transport (errors name what is missing).
NAMES: dict[Origin, dict[str, str]] = {
    "http": {
        "api_key": "X-API-Key header",
        "agent_id": "X-Agent-Id header",
        "agent_type": "X-Agent-Type header",
        "permissions": "X-Agent-Permissions header",
    },
    "stdio": {
        "api_key": "SCS_API_KEY variable",
        "agent_id": "SCS_AGENT_ID variable",
        "agent_type": "SCS_AGENT_TYPE variable",
        "permissions": "SCS_AGENT_PERMISSIONS variable",
    },
}
HEADERS = ("x-api-key", "x-agent-id", "x-agent-type", "x-agent-permissions")


@dataclass(frozen=True, slots=True)
class Credentials:
    """Everything one request presents about who it is (nothing verified yet)."""

    auth_token: str | None = None
    bearer: str | None = None
    api_key: str | None = None
    agent_id: str | None = None
    agent_type: str | None = None
    permissions: str | None = None
    origin: Origin = "http"

    @property
    def token(self) -> str | None:
        return self.auth_token or self.bearer

    @property
    def has_connection_identity(self) -> bool:
        return bool(self.api_key or self.agent_id)


def bearer_from(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def credentials_from_headers(
    headers: Mapping[str, str], auth_token: str | None = None
) -> Credentials:
    """From an HTTP request's headers (any mapping with lower-case keys, or Starlette's
    case-insensitive ``Headers``)."""
    return Credentials(
        auth_token=auth_token or None,
        bearer=bearer_from(headers.get("authorization")),
        api_key=headers.get("x-api-key") or None,
        agent_id=headers.get("x-agent-id") or None,
        agent_type=headers.get("x-agent-type") or None,
        permissions=headers.get("x-agent-permissions") or None,
        origin="http",
    )


class ConnectionIdentities:
    def __init__(self, keys: KeyRing, audit: AuditRecorder) -> None:
        self._keys = keys
        self._audit = audit
        self._seen: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def forget(self) -> None:
        self._seen.clear()

    async def resolve(self, creds: Credentials) -> Principal:
        names = NAMES[creds.origin]
        try:
            principal, key_name = await self._principal(creds, names)
        except SharedContextError as exc:
            digest = hash_key(creds.api_key)[:16] if creds.api_key else ""
            failed = ("fail", creds.origin, digest, (creds.agent_id or "")[:100], exc.code.value)
            if self._first(failed):
                await self._audit.record(
                    "authenticate",
                    None,
                    agent_id=(creds.agent_id or "")[:100] or None,
                    outcome=FAILURE,
                    code=exc.code.value,
                    via=creds.origin,
                )
            raise
        granted = sorted(p.value for p in principal.permissions)
        marker = (
            "ok",
            creds.origin,
            principal.key_id,
            principal.agent_id,
            principal.agent_type,
            ",".join(granted),
        )
        if self._first(marker):
            await self._audit.record(
                "authenticate", principal, key=key_name, permissions=granted, via=creds.origin
            )
        return principal

    async def _principal(self, creds: Credentials, names: dict[str, str]) -> tuple[Principal, str]:
        if not creds.api_key:
            raise AuthError(
                f"An API key is required with {names['agent_id']}: set the {names['api_key']}.",
                code=ErrorCode.INVALID_API_KEY,
            )
        key = await self._keys.verify_cached(creds.api_key)
        if not creds.agent_id:
            raise AuthError(
                f"The {names['api_key']} names a client, not an agent: also set the "
                f"{names['agent_id']} (and the {names['agent_type']}), or pass auth_token "
                "from authenticate_agent.",
                code=ErrorCode.AUTH_REQUIRED,
            )
        agent_id = check_agent_id(creds.agent_id, names["agent_id"])
        agent_type = check_agent_type(creds.agent_type or DEFAULT_AGENT_TYPE)
        requested = AGENT_CEILING
        if creds.permissions:
            raw = creds.permissions[: MAX_PERMISSIONS_CHARS + 1]
            if len(raw) > MAX_PERMISSIONS_CHARS:
                raise InvalidInput(f"The {names['permissions']} is too long.")
            requested = parse_permissions(p.strip() for p in raw.split(",") if p.strip())
        require_allowed(key.agents, agent_id, key.name)
        principal = Principal(
            agent_id=agent_id,
            agent_type=agent_type,
            permissions=requested & key.permissions,
            key_id=key.key_id,
            token_id=f"{CONNECTION_PREFIX}{key.key_id}:{agent_id}",
        )
        return principal, key.name

    def _first(self, marker: tuple[str, ...]) -> bool:
        """True the first time an identity (or refusal) is seen; bounded LRU memory."""
        if marker in self._seen:
            self._seen.move_to_end(marker)
            return False
        self._seen[marker] = None
        if len(self._seen) > MAX_SEEN:
            self._seen.popitem(last=False)
        return True


def is_connection_identity(principal: Principal) -> bool:
    return principal.token_id.startswith(CONNECTION_PREFIX)


def nothing_presented(origin: Origin) -> AuthError:
    how = (
        "connect with the X-API-Key and X-Agent-Id headers"
        if origin == "http"
        else "start the server with SCS_API_KEY and SCS_AGENT_ID set"
    )
    return AuthError(
        "Authentication required: pass auth_token (from authenticate_agent), send "
        f"'Authorization: Bearer <token>', or {how}.",
        code=ErrorCode.AUTH_REQUIRED,
    )
