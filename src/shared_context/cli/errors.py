"""The command line's error boundary: how a ``SharedContextError`` ends a command.

One mapping per transport (MCP in ``mcp/errors.py``, HTTP in ``web/errors.py``, the CLI here),
each read from the one table ``domain.errors.ERROR_FORMS``: the line names the code and the
message; a caller fault (a 4xx form: bad input, a refused or missing thing) exits 2 like a usage
error, a server fault (5xx: storage) exits 1.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from shared_context.domain.errors import ERROR_FORMS, SharedContextError

EXIT_CALLER_FAULT = 2
EXIT_SERVER_FAULT = 1


def exit_status(error: SharedContextError) -> int:
    return EXIT_SERVER_FAULT if ERROR_FORMS[error.code].http_status >= 500 else EXIT_CALLER_FAULT


def error_line(error: SharedContextError) -> str:
    return f"error: {error.code.value}: {error.message}"


def _stderr(line: str) -> None:
    typer.echo(line, err=True)


def command_failed(
    error: SharedContextError, write: Callable[[str], object] = _stderr
) -> typer.Exit:
    """Write the error's line (stderr by default) and return the ``typer.Exit`` to raise."""
    write(error_line(error))
    return typer.Exit(exit_status(error))
