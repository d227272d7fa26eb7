"""The HTTP error boundary: the one module that turns our errors into HTTP responses.

The status comes from ``domain.errors.ERROR_FORMS``; the body is the same
``{success: false, code, message}`` a tool error carries. Two answers are not errors of ours
and are built here too, so no route writes a status code: a body over the size limit (SPEC §3
allows HTTP 413 for it) and an unhealthy ``/health``.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse, PlainTextResponse, Response

from shared_context.domain.errors import ERROR_FORMS, AuthError, InvalidInput, SharedContextError


def http_status(exc: SharedContextError) -> int:
    return ERROR_FORMS[exc.code].http_status


def error_response(exc: SharedContextError) -> JSONResponse:
    return JSONResponse(exc.to_dict(), status_code=http_status(exc))


def refusal_text(exc: SharedContextError) -> PlainTextResponse:
    """The dashboard's plain-text answer (htmx fragments, event streams): message and status."""
    return PlainTextResponse(exc.message, status_code=http_status(exc))


def text_too_large(message: str) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def login_redirect_for_htmx(target: str) -> Response:
    """An htmx request without a valid login: 401 (so htmx does not swap the page in) with the
    redirect htmx follows instead."""
    return Response(
        status_code=http_status(AuthError("Log in first.")), headers={"HX-Redirect": target}
    )


def body_too_large(max_bytes: int) -> JSONResponse:
    refusal = InvalidInput(f"Request body is larger than {max_bytes} bytes.")
    return JSONResponse(refusal.to_dict(), status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def unhealthy(exc: SharedContextError) -> JSONResponse:
    return JSONResponse(
        {"status": "unhealthy", "database": "unreachable", "detail": exc.message},
        status_code=HTTPStatus.SERVICE_UNAVAILABLE,
    )
