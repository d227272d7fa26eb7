"""The HTTP error boundary: the one module that turns our errors into HTTP responses.

The status comes from ``domain.errors.ERROR_FORMS``; the body is the same
``{success: false, code, message}`` a tool error carries. Two answers are not errors of ours
and are built here too, so no route writes a status code: a body over the size limit (SPEC §3
allows HTTP 413 for it) and an unhealthy ``/health``.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse

from shared_context.domain.errors import ERROR_FORMS, InvalidInput, SharedContextError


def error_response(exc: SharedContextError) -> JSONResponse:
    return JSONResponse(exc.to_dict(), status_code=ERROR_FORMS[exc.code].http_status)


def body_too_large(max_bytes: int) -> JSONResponse:
    refusal = InvalidInput(f"Request body is larger than {max_bytes} bytes.")
    return JSONResponse(refusal.to_dict(), status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def unhealthy(exc: SharedContextError) -> JSONResponse:
    return JSONResponse(
        {"status": "unhealthy", "database": "unreachable", "detail": exc.message},
        status_code=HTTPStatus.SERVICE_UNAVAILABLE,
    )
