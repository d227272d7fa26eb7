"""The dashboard's browser-facing protections: the login cookie, CSRF tokens, the Origin check
and the response headers (Content-Security-Policy and friends).

- The login cookie holds the agent token minted at login (a signed, expiring JWT), HttpOnly,
  SameSite=Strict, Path=/ui, Max-Age = the token's remaining life. It is never rendered.
  Every request verifies it like a tool call does (signature, expiry, revocation); logout
  revokes it, so a copy is worthless afterwards.
- CSRF: a random nonce in its own HttpOnly, SameSite=Strict cookie; every form carries
  HMAC(secret, nonce) in a hidden field. A POST must carry a matching pair AND an Origin (or,
  failing that, Referer) of this very server. The secret is kept in the database (shared by
  every instance).
- Headers: a strict CSP (scripts and styles only from /ui/static, no inline script, no eval,
  no framing), nosniff, no referrer leaks, no caching of pages.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "scs_ui"
CSRF_COOKIE = "scs_ui_csrf"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/ui"
MAX_COOKIE_CHARS = 4096
CSRF_COOKIE_SECONDS = 7 * 86400

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS (and no-store for non-static responses)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(f"{COOKIE_PATH}/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.decode().lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name not in present:
                        headers.append((name.encode(), value.encode()))
                if not static and "cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def login_token(request: Request) -> str | None:
    value = request.cookies.get(COOKIE)
    if not value or len(value) > MAX_COOKIE_CHARS:
        return None
    return value


def set_login_cookie(response: Response, token: str, max_age: int, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(1, max_age),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def clear_login_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure
    )


class Csrf:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("scs-dashboard-csrf:" + secret).encode()).digest()

    def nonce(self, request: Request) -> tuple[str, bool]:
        """The browser's nonce, and whether it is new (then the response must set it)."""
        value = request.cookies.get(CSRF_COOKIE, "")
        if (
            16 <= len(value) <= 64
            and value.isascii()
            and value.replace("-", "").replace("_", "").isalnum()
        ):
            return value, False
        return secrets.token_urlsafe(24), True

    def token(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()

    def valid(self, request: Request, submitted: object) -> bool:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not nonce or not isinstance(submitted, str) or len(submitted) != 64:
            return False
        return hmac.compare_digest(self.token(nonce), submitted)

    @staticmethod
    def remember(response: Response, nonce: str, *, secure: bool) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            max_age=CSRF_COOKIE_SECONDS,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=secure,
        )


def same_origin(request: Request) -> bool:
    """The request's Origin (or Referer) names this server: scheme, host and port."""
    host = request.headers.get("host", "")
    if not host:
        return False
    claimed = request.headers.get("origin")
    if claimed is None or claimed == "null":
        referer = request.headers.get("referer")
        if not referer:
            return False
        parts = urlsplit(referer)
        claimed = f"{parts.scheme}://{parts.netloc}"
    parts = urlsplit(claimed)
    return parts.scheme == request.url.scheme and parts.netloc.lower() == host.lower()
