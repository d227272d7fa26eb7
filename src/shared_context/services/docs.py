"""API documentation generated from the live tool registry, so it cannot drift from the code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared_context import __version__
from shared_context.domain.errors import ErrorCode, InvalidInput
from shared_context.services.guides import INTEGRATION_GUIDES, TROUBLESHOOTING, guides_markdown
from shared_context.services.results import Documentation

FORMATS = ("json", "markdown", "openapi")


@dataclass(frozen=True, slots=True)
class ToolDoc:
    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool


def example_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """A plausible argument object for a tool, from its JSON schema (required fields only)."""
    props: dict[str, Any] = schema.get("properties", {})
    out: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = props.get(name, {})
        out[name] = _example_value(name, prop)
    return out


def _example_value(name: str, prop: dict[str, Any]) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind is None and "anyOf" in prop:
        kinds = [p for p in prop["anyOf"] if p.get("type") != "null"]
        return _example_value(name, kinds[0]) if kinds else None
    if name == "session_id":
        return "session_0123456789abcdef"
    return {
        "string": f"<{name}>",
        "integer": 1,
        "number": 1.0,
        "boolean": True,
        "array": [],
        "object": {},
    }.get(str(kind), f"<{name}>")


def error_codes() -> list[str]:
    return [code.value for code in ErrorCode]


def render(tools: list[ToolDoc], fmt: str, include_examples: bool) -> Documentation:
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}.")
    tools = sorted(tools, key=lambda t: t.name)
    if fmt == "json":
        doc: Any = {
            "name": "shared-context-server",
            "version": __version__,
            "error_codes": error_codes(),
            "tools": [
                {
                    "name": t.name,
                    "description": t.description,
                    "read_only": t.read_only,
                    "input_schema": t.input_schema,
                    **({"example": example_arguments(t.input_schema)} if include_examples else {}),
                }
                for t in tools
            ],
            "integration_guides": INTEGRATION_GUIDES,
            "troubleshooting": TROUBLESHOOTING,
        }
    elif fmt == "markdown":
        doc = _markdown(tools, include_examples)
    else:
        doc = _openapi(tools, include_examples)
    return Documentation(format=fmt, tool_count=len(tools), documentation=doc)


def _markdown(tools: list[ToolDoc], include_examples: bool) -> str:
    lines = [
        "# Shared Context Server — tool reference",
        "",
        f"Version {__version__}. Generated from the live tool registry.",
        "",
        "Every tool returns a JSON object with `success`. Failures are MCP tool errors whose "
        "structured content is `{success: false, code, message}`; codes: "
        + ", ".join(f"`{c}`" for c in error_codes())
        + ".",
        "",
    ]
    for tool in tools:
        lines += [f"## `{tool.name}`", "", tool.description.strip(), ""]
        props: dict[str, Any] = tool.input_schema.get("properties", {})
        required = set(tool.input_schema.get("required", []))
        if props:
            lines += ["| parameter | type | required | description |", "|---|---|---|---|"]
            for name, prop in props.items():
                kind = prop.get("type") or "/".join(
                    str(p.get("type", "?")) for p in prop.get("anyOf", [])
                )
                desc = str(prop.get("description", "")).replace("|", "\\|").replace("\n", " ")
                lines.append(
                    f"| `{name}` | {kind} | {'yes' if name in required else 'no'} | {desc} |"
                )
            lines.append("")
        if include_examples:
            example = json.dumps(example_arguments(tool.input_schema), indent=2)
            lines += ["Example arguments:", "", "```json", example, "```", ""]
    lines += guides_markdown()
    return "\n".join(lines)


def _openapi(tools: list[ToolDoc], include_examples: bool) -> dict[str, Any]:
    error_schema = {
        "type": "object",
        "properties": {
            "success": {"type": "boolean", "const": False},
            "code": {"type": "string", "enum": error_codes()},
            "message": {"type": "string"},
        },
        "required": ["success", "code", "message"],
    }
    paths: dict[str, Any] = {}
    for tool in tools:
        body: dict[str, Any] = {"schema": tool.input_schema}
        if include_examples:
            body["example"] = example_arguments(tool.input_schema)
        paths[f"/tools/{tool.name}"] = {
            "post": {
                "operationId": tool.name,
                "summary": tool.description.strip().splitlines()[0] if tool.description else "",
                "description": tool.description,
                "requestBody": {"required": True, "content": {"application/json": body}},
                "responses": {
                    "200": {
                        "description": "Tool result (MCP structured content).",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "default": {
                        "description": "Tool error (MCP isError result).",
                        "content": {"application/json": {"schema": error_schema}},
                    },
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shared Context Server tools",
            "version": __version__,
            "description": "MCP tools described as operations; call them with MCP tools/call "
            "at /mcp.",
        },
        "paths": paths,
    }
