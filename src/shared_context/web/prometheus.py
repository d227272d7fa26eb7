"""``/metrics``: the server's own Prometheus registry in the text exposition format."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from shared_context.domain.errors import AuthError, PermissionDenied
from shared_context.domain.permissions import Permission
from shared_context.services.container import Services
from shared_context.web.errors import error_response


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key")


async def metrics_endpoint(app: Services, request: Request) -> Response:
    if not app.settings.metrics_public:
        try:
            key = await app.auth.keys.verify(_presented_key(request))
        except AuthError as exc:
            app.metrics.calls.auth_failure(exc.code.value)
            return error_response(AuthError("Send the admin API key."))
        if Permission.ADMIN not in key.permissions:
            return error_response(PermissionDenied("Needs an admin key."))
    await app.metrics.snapshot()  # measures the levels that need the database
    return Response(generate_latest(app.metrics.registry), media_type=CONTENT_TYPE_LATEST)
