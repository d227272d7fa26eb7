"""Request header values without surrounding whitespace, whatever HTTP parser the server uses.

RFC 9110 §5.5: a field value does not include leading or trailing whitespace; a recipient
strips it. h11 does, httptools (uvicorn's faster parser, which we serve with) does not, so an
``Mcp-Name:  create_session `` header would not equal the body's tool name and the MCP SDK
would refuse a valid request (the MCP conformance suite's ServerAcceptsWhitespaceHeaderValue).
One pass over the headers, a copy only when a value needs trimming."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_OWS = b" \t"


class TrimmedHeaderValues:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            if any(v[:1] in (b" ", b"\t") or v[-1:] in (b" ", b"\t") for _, v in headers):
                scope = dict(scope)
                scope["headers"] = [(name, value.strip(_OWS)) for name, value in headers]
        await self.app(scope, receive, send)
