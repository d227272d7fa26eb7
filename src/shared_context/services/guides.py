"""Integration guides and troubleshooting notes served with the generated API documentation.

The framework guides are the runnable examples in ``examples/`` (SPEC §18): each guide shows
the file the test suite runs (``tests/examples``), read from the checkout, so a guide never
shows code that was not run. Where the server runs from an installed wheel without the
checkout, the guide names the file and the command instead of showing stale code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# src/shared_context/services/guides.py -> the repository root.
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"
EXAMPLE_MAX_BYTES = 64_000
INSTALL = "uv sync --project examples --group examples"
RUN = (
    "SCS_URL=http://127.0.0.1:23456/mcp SCS_API_KEY=<key> \\\n"
    "    uv run --project examples --group examples python examples/{file}"
)

# guide name -> (framework, example file, the framework's MCP integration it uses)
FRAMEWORK_EXAMPLES: dict[str, tuple[str, str, str]] = {
    "autogen": ("AutoGen", "autogen_team.py", "autogen-ext McpWorkbench"),
    "crewai": ("CrewAI", "crewai_team.py", "crewai-tools MCPServerAdapter"),
    "langgraph": ("LangGraph", "langgraph_team.py", "langchain-mcp-adapters"),
    "openai_agents": (
        "OpenAI Agents SDK",
        "openai_agents_team.py",
        "agents.mcp.MCPServerStreamableHttp",
    ),
}


def example_source(file: str) -> str | None:
    """The text of ``examples/<file>`` when the checkout is present (bounded), else None."""
    path = EXAMPLES_DIR / file
    try:
        if not path.is_file() or path.stat().st_size > EXAMPLE_MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _framework_guide(framework: str, file: str, integration: str) -> dict[str, Any]:
    source = example_source(file)
    code = source if source is not None else f"# See examples/{file} in the repository."
    return {
        "title": f"{framework} Integration Guide",
        "description": (
            f"Two {framework} agents share context through Shared Context Server using "
            f"{integration}: a researcher posts a finding, a reviewer finds it with "
            "search_context and answers. Runs offline on the framework's own scripted model; "
            "set SCS_EXAMPLES_MODEL (and OPENAI_API_KEY) for a real one. The scenario and "
            "the offline model are in examples/playbook.py; see docs/integrations.md."
        ),
        "requirements": [
            "shared-context-server running (uv run scs serve)",
            f"the examples' environment: {INSTALL}",
        ],
        "source": f"examples/{file}",
        "steps": [
            {"title": "Install", "language": "shell", "code": INSTALL},
            {"title": "Run", "language": "shell", "code": RUN.format(file=file)},
            {"title": f"examples/{file} (run by the test suite)", "code": code},
        ],
    }


INTEGRATION_GUIDES: dict[str, dict[str, Any]] = {
    **{name: _framework_guide(*spec) for name, spec in FRAMEWORK_EXAMPLES.items()},
    "claude_code": {
        "title": "Claude Code Integration Guide",
        "description": "Register the server once; sub-agents pass their own auth_token.",
        "requirements": ["shared-context-server running", "Claude Code"],
        "steps": [
            {
                "title": "Register",
                "language": "shell",
                "code": "claude mcp add --transport http shared-context "
                'http://127.0.0.1:23456/mcp --header "X-API-Key: $SCS_API_KEY" '
                '--header "X-Agent-Id: claude-1" --header "X-Agent-Type: claude"',
            },
            {
                "title": "Use",
                "language": "text",
                "code": "Every call acts as claude-1 with no token. A sub-agent that must "
                "act as itself calls authenticate_agent with its own agent_id and passes the "
                "token as auth_token.",
            },
        ],
    },
}

TROUBLESHOOTING: list[dict[str, str]] = [
    {
        "symptom": "AUTH_REQUIRED on every call",
        "fix": "Connect with the X-API-Key and X-Agent-Id headers (stdio: SCS_API_KEY and "
        "SCS_AGENT_ID), or pass auth_token from authenticate_agent, or send "
        "'Authorization: Bearer <token>'.",
    },
    {
        "symptom": "TOKEN_EXPIRED",
        "fix": "Tokens last SCS_TOKEN_TTL_SECONDS (1 h by default): call refresh_token.",
    },
    {
        "symptom": "INVALID_API_KEY on authenticate_agent",
        "fix": "Use the key from api_keys.txt in the data directory or SCS_API_KEY; "
        "`scs keys list` shows which keys are active.",
    },
    {
        "symptom": "HTTP 403 Forbidden Origin / 421 Misdirected Request",
        "fix": "DNS-rebinding protection: add the host to SCS_ALLOWED_HOSTS or the browser "
        "origin to SCS_ALLOWED_ORIGINS.",
    },
    {
        "symptom": "SESSION_LOCKED on add_message",
        "fix": "Another agent holds the session write lock; coordinate_session_work "
        "action=status shows the holder and expiry.",
    },
    {
        "symptom": "HTTP 413",
        "fix": "The request body exceeded SCS_MAX_BODY_BYTES; split the content.",
    },
]


def guides_markdown() -> list[str]:
    lines = ["# Integration guides", ""]
    for name, guide in INTEGRATION_GUIDES.items():
        lines += [f"## {guide['title']} (`{name}`)", "", guide["description"], ""]
        for step in guide["steps"]:
            fence = "```" + str(step.get("language", "python"))
            # The block ends on the code's last line (as Markdown formatters write it; the
            # committed reference is checked by ruff format); the step keeps the file verbatim.
            code = str(step["code"]).rstrip("\n")
            lines += [f"**{step['title']}**", "", fence, code, "```", ""]
    lines += ["# Troubleshooting", "", "| symptom | fix |", "|---|---|"]
    lines += [f"| {row['symptom']} | {row['fix']} |" for row in TROUBLESHOOTING]
    lines.append("")
    return lines
