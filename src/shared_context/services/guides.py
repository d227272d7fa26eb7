"""Integration guides and troubleshooting notes served with the generated API documentation.

The examples use the official MCP Python SDK client (``mcp.Client``) against Streamable HTTP,
which every framework below can call from its tools or nodes."""

from __future__ import annotations

from typing import Any

_CONNECT = """from mcp import Client

async with Client("http://127.0.0.1:23456/mcp") as scs:
    auth = await scs.call_tool("authenticate_agent", {
        "agent_id": "{agent_id}", "agent_type": "{agent_type}", "api_key": API_KEY})
    token = auth.structured_content["token"]
    session = await scs.call_tool("create_session", {
        "purpose": "{purpose}", "auth_token": token})
    session_id = session.structured_content["session_id"]"""


def _guide(title: str, framework: str, agent_type: str, usage: str) -> dict[str, Any]:
    connect = (
        _CONNECT.replace("{agent_id}", f"{agent_type}-main")
        .replace("{agent_type}", agent_type)
        .replace("{purpose}", f"{framework} multi-agent collaboration")
    )
    return {
        "title": title,
        "description": f"Share context between {framework} agents through Shared Context Server.",
        "requirements": ["shared-context-server running (uv run scs serve)", "pip install mcp"],
        "steps": [
            {"title": "Connect and authenticate", "code": connect},
            {"title": f"Use it from {framework}", "code": usage},
        ],
    }


INTEGRATION_GUIDES: dict[str, dict[str, Any]] = {
    "autogen": _guide(
        "AutoGen Integration Guide",
        "AutoGen",
        "autogen",
        "# Register async tool functions that call the server, e.g.\n"
        "async def post_to_blackboard(text: str) -> str:\n"
        '    r = await scs.call_tool("add_message", {"session_id": session_id,\n'
        '        "content": text, "auth_token": token})\n'
        '    return str(r.structured_content["message_id"])\n'
        "# and pass post_to_blackboard in the assistant's tools list.",
    ),
    "crewai": _guide(
        "CrewAI Integration Guide",
        "CrewAI",
        "crewai",
        "# Wrap search_context as a CrewAI tool so every crew member can read shared context:\n"
        "async def shared_search(query: str) -> list[str]:\n"
        '    r = await scs.call_tool("search_context", {"session_id": session_id,\n'
        '        "query": query, "auth_token": token})\n'
        '    return [hit["message"]["content"] for hit in r.structured_content["results"]]',
    ),
    "langgraph": _guide(
        "LangGraph Integration Guide",
        "LangGraph",
        "langgraph",
        "# In a node, read what other agents posted since the last step:\n"
        "async def catch_up(state):\n"
        '    r = await scs.call_tool("get_messages", {"session_id": session_id,\n'
        '        "since_id": state["last_id"], "auth_token": token})\n'
        '    msgs = r.structured_content["messages"]\n'
        '    return {"context": msgs, "last_id": msgs[-1]["id"] if msgs else state["last_id"]}',
    ),
    "claude_code": {
        "title": "Claude Code Integration Guide",
        "description": "Register the server once; sub-agents pass their own auth_token.",
        "requirements": ["shared-context-server running", "Claude Code"],
        "steps": [
            {
                "title": "Register",
                "code": "claude mcp add --transport http shared-context "
                'http://127.0.0.1:23456/mcp --header "X-API-Key: $SCS_API_KEY"',
            },
            {
                "title": "Use",
                "code": "Ask each sub-agent to call authenticate_agent with its own agent_id "
                "and pass the token as auth_token on every later call.",
            },
        ],
    },
}

TROUBLESHOOTING: list[dict[str, str]] = [
    {
        "symptom": "AUTH_REQUIRED on every call",
        "fix": "Pass auth_token from authenticate_agent, or send 'Authorization: Bearer <token>'.",
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
            lines += [f"**{step['title']}**", "", "```python", step["code"], "```", ""]
    lines += ["# Troubleshooting", "", "| symptom | fix |", "|---|---|"]
    lines += [f"| {row['symptom']} | {row['fix']} |" for row in TROUBLESHOOTING]
    lines.append("")
    return lines
