"""Running the server on a transport until a signal asks it to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator

import uvicorn

from shared_context import heap
from shared_context.bootstrap import build_http_app, check_listen_address, open_services
from shared_context.config import Settings
from shared_context.mcp.server import build_mcp
from shared_context.telemetry.tracing import tracing_from_environment

log = logging.getLogger("shared_context")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn, with two changes. After a graceful stop uvicorn re-raises the signal it
    caught, which kills the process before the database is closed and the write queue
    drained: we stop on the signal and return, so ``open_services`` can finish its shutdown.
    And long-lived subscription streams are ended as shutdown begins (otherwise open streams
    hold the graceful-shutdown timeout)."""

    def __init__(self, config: uvicorn.Config, *, before_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._before_shutdown()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)


async def run_http(settings: Settings) -> None:
    check_listen_address(settings)
    tracing = tracing_from_environment()
    async with open_services(settings, tracing=tracing) as services:
        http = build_http_app(services)
        config = uvicorn.Config(
            http,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            lifespan="on",
            timeout_graceful_shutdown=10,
            access_log=False,
            log_config=None,  # uvicorn's records go through our handler (text or JSON)
        )
        server = _Server(config, before_shutdown=services.coordination.end_streams)
        heap.settle()  # everything built so far lives as long as the process
        log.info(
            "Shared Context Server on http://%s:%d/mcp (database: %s, event loop: %s)",
            settings.host,
            settings.port,
            services.store.dialect,
            type(asyncio.get_running_loop()).__module__.split(".")[0],
        )
        await server.serve()
    tracing.shutdown()
    log.info("stopped; all acknowledged writes are committed")


async def run_stdio(settings: Settings) -> None:
    tracing = tracing_from_environment()
    async with open_services(settings, tracing=tracing) as services:
        mcp = build_mcp(services)
        heap.settle()
        task = asyncio.ensure_future(mcp.run_stdio_async(show_banner=False))
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            log.info("stdio server stopping on signal")
    tracing.shutdown()
