"""Routes served beside /mcp. They call services only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from shared_context import __version__
from shared_context.domain.errors import SharedContextError
from shared_context.services.container import Services


def build_routes(app: Services) -> list[BaseRoute]:
    async def health(_: Request) -> JSONResponse:
        try:
            await app.store.ping()
        except SharedContextError as exc:
            return JSONResponse(
                {"status": "unhealthy", "database": "unreachable", "detail": exc.message},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": app.store.dialect, "version": __version__})

    return [Route("/health", health, methods=["GET"])]
