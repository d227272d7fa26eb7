"""One error boundary: one table from code to wire form, applied in exactly one module per
transport (MCP, HTTP, the command line)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastmcp import FastMCP
from mcp import MCPError

from shared_context.cli.errors import command_failed, error_line, exit_status
from shared_context.domain.errors import (
    ERROR_FORMS,
    AuthError,
    Conflict,
    ErrorCode,
    InvalidInput,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    SharedContextError,
    StorageError,
)
from shared_context.mcp.errors import BOUNDARY_MARK, jsonrpc_error
from shared_context.web.errors import body_too_large, error_response

SRC = Path(__file__).resolve().parents[2] / "src" / "shared_context"
BOUNDARY = {"mcp/errors.py", "web/errors.py", "cli/errors.py"}
#: Building a wire answer from an error: each of these may only appear in the boundary.
MAPPING = {
    "builds an MCP/FastMCP error": re.compile(
        r"\b(MCPError|McpError|ToolError|ResourceError|PromptError)\("
    ),
    "writes an HTTP error status": re.compile(
        r"status_code\s*=\s*([45]\d\d|HTTPStatus\.|status\.HTTP_[45])"
    ),
    "builds a tool error result": re.compile(r"is_error\s*=\s*True"),
    "spells an error code into a body": re.compile(r"[\"']code[\"']\s*:\s*[\"'][A-Z_]{4,}[\"']"),
    "prints an error's message": re.compile(r"f[\"'][^\"']*\{\w+\.message\}"),
}
CLI_CATCH = re.compile(r"^(\s*)except\b.*\bSharedContextError\b")


def test_every_code_has_one_wire_form() -> None:
    assert set(ERROR_FORMS) == set(ErrorCode)
    for code, form in ERROR_FORMS.items():
        assert 400 <= form.http_status < 600, code
        assert -32768 <= form.jsonrpc_code <= -32000, code
    # Caller faults are 4xx, server faults 5xx: bad input never looks like a server error.
    assert {c for c, f in ERROR_FORMS.items() if f.http_status >= 500} == {
        ErrorCode.STORAGE_FULL,
        ErrorCode.INTERNAL_ERROR,
    }


def test_no_module_maps_errors_outside_the_boundary() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        name = str(path.relative_to(SRC))
        if name in BOUNDARY:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            offenders += [
                f"{name}:{number} {what}: {line.strip()}"
                for what, pattern in MAPPING.items()
                if pattern.search(line)
            ]
    assert not offenders, (
        "map errors in " + ", ".join(sorted(BOUNDARY)) + " only:\n" + ("\n".join(offenders))
    )


def test_the_command_line_ends_commands_on_errors_only_through_its_boundary() -> None:
    """Every ``except SharedContextError`` in cli/ hands the error to cli.errors, which alone
    picks the line and the exit status."""
    offenders, catches = [], 0
    for path in sorted((SRC / "cli").glob("*.py")):
        if path.name == "errors.py":
            continue
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            caught = CLI_CATCH.match(line)
            if caught is None:
                continue
            catches += 1
            indent = len(caught.group(1))
            block = []
            for body in lines[number + 1 :]:
                if body.strip() and len(body) - len(body.lstrip()) <= indent:
                    break
                block.append(body)
            text = "\n".join(block)
            if "command_failed(" not in text or "typer.Exit(" in text or "echo(" in text:
                offenders.append(f"{path.name}:{number + 1}")
    assert catches >= 3  # serve, keys, migrate
    assert not offenders, f"route these through cli.errors.command_failed: {offenders}"


async def test_every_tool_and_resource_is_registered_behind_the_boundary(
    server: FastMCP,
) -> None:
    tools = await server.list_tools()
    templates = await server.list_resource_templates()
    assert tools and templates
    bare = [t.name for t in tools if not getattr(getattr(t, "fn", None), BOUNDARY_MARK, False)]
    bare += [t.name for t in templates if not getattr(getattr(t, "fn", None), BOUNDARY_MARK, False)]
    assert not bare, f"register these with mcp.errors.tool / guarded_resource: {bare}"


@pytest.mark.parametrize(
    ("error", "status", "rpc"),
    [
        (AuthError("no token"), 401, -32001),
        (AuthError("old", code=ErrorCode.TOKEN_EXPIRED), 401, -32001),
        (PermissionDenied("admins only"), 403, -32001),
        (InvalidInput("bad limit"), 400, -32602),
        (NotFound("no such session"), 404, -32002),
        (Conflict("held", code=ErrorCode.SESSION_LOCKED, details={"holder": "bob"}), 409, -32600),
        (LimitExceeded("slow down", code=ErrorCode.RATE_LIMITED), 429, -32029),
        (StorageError("disk", code=ErrorCode.STORAGE_FULL), 507, -32603),
        (StorageError("boom"), 500, -32603),
    ],
    ids=lambda v: v.code.value if isinstance(v, SharedContextError) else str(v),
)
def test_each_transport_answers_from_the_table(
    error: SharedContextError, status: int, rpc: int
) -> None:
    body = error.to_dict()
    assert body["success"] is False and body["code"] == error.code.value
    response = error_response(error)
    assert response.status_code == status
    assert json.loads(bytes(response.body)) == body
    rpc_error = jsonrpc_error(error)
    assert isinstance(rpc_error, MCPError)
    assert rpc_error.error.code == rpc
    assert rpc_error.error.data == body
    assert rpc_error.error.message.startswith(f"{error.code.value}: ")
    # The command line: one line with code and message; caller faults exit 2, server faults 1.
    assert error_line(error) == f"error: {error.code.value}: {error.message}"
    assert exit_status(error) == (1 if status >= 500 else 2)
    written: list[str] = []
    ended = command_failed(error, written.append)
    assert written == [error_line(error)]
    assert ended.exit_code == exit_status(error)


def test_an_oversized_body_is_413_with_the_invalid_input_body() -> None:
    response = body_too_large(100)
    assert response.status_code == 413
    assert json.loads(bytes(response.body))["code"] == "INVALID_INPUT"
