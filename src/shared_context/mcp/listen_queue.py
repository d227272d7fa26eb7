"""One ``subscriptions/listen`` stream's backlog (see ``mcp.subscriptions``)."""

from __future__ import annotations

import logging

import anyio

from shared_context.domain.errors import SharedContextError

log = logging.getLogger("shared_context.mcp.subscriptions")


class ListenQueue:
    """One listen stream's backlog: bounded, de-duplicated (updates are level triggers).
    A stream whose client stopped reading is ended at the cap; the client re-listens."""

    def __init__(self, subscription_id: object, size: int) -> None:
        self._id = subscription_id
        self._send, self._recv = anyio.create_memory_object_stream[str](size)
        self._queued: set[str] = set()
        self.revoked: SharedContextError | None = None

    def revoke(self, exc: SharedContextError) -> None:
        """The subscriber's identity was revoked or expired: end at once, dropping what is
        queued (nothing more may reach that identity)."""
        self.revoked = exc
        self._send.close()
        self._queued.clear()

    def deliver(self, uri: str) -> None:
        if uri in self._queued:
            return
        try:
            self._send.send_nowait(uri)
            self._queued.add(uri)
        except anyio.WouldBlock:
            log.warning("listen stream %r backlog full; ending it", self._id)
            self._send.close()
        except anyio.ClosedResourceError:
            pass

    def __aiter__(self) -> ListenQueue:
        return self

    async def __anext__(self) -> str:
        try:
            uri = await self._recv.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None
        self._queued.discard(uri)
        return uri

    def end(self) -> None:
        """No more updates: the stream drains what is queued, then finishes."""
        self._send.close()

    def close(self) -> None:
        self._send.close()
        self._recv.close()
