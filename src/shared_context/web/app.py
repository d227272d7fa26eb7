"""Routes served beside /mcp. They call services only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shared_context import __version__
from shared_context.domain.errors import SharedContextError
from shared_context.services.container import Services
from shared_context.web.errors import unhealthy
from shared_context.web.prometheus import metrics_endpoint


def build_routes(app: Services) -> list[BaseRoute]:
    async def health(_: Request) -> JSONResponse:
        try:
            await app.store.ping()
        except SharedContextError as exc:
            return unhealthy(exc)
        if app.store.stats().get("storage_full"):
            # Degraded, not down: reads are served; writes answer STORAGE_FULL until space frees.
            return JSONResponse(
                {
                    "status": "degraded",
                    "database": app.store.dialect,
                    "storage": "full",
                    "detail": "The database disk is full: writes are refused, reads work.",
                    "version": __version__,
                }
            )
        return JSONResponse({"status": "ok", "database": app.store.dialect, "version": __version__})

    async def metrics(request: Request) -> Response:
        return await metrics_endpoint(app, request)

    return [Route("/health", health, methods=["GET"]), Route("/metrics", metrics, methods=["GET"])]
