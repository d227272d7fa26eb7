"""ASGI guard: refuse request bodies over the configured size with HTTP 413."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared_context.web.errors import body_too_large


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
        if not any(name == b"content-length" for name, _ in scope.get("headers", [])):
            # No declared length (chunked): read the body here, bounded, so an overflow is
            # answered by us. Raising from inside the app's receive() would be caught by the
            # MCP transport and turned into a 500.
            body = await self._read_bounded(receive)
            if body is None:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, _replay(body, receive), send)
            return
        # A declared length within the limit: the HTTP server enforces the framing.
        await self.app(scope, receive, send)

    async def _read_bounded(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it exceeds the limit (or the client went away)."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return bytes(body)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await body_too_large(self.max_bytes)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the buffered body to the app once, then pass through (e.g. http.disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
