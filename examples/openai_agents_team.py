"""OpenAI Agents SDK: two agents share context through Shared Context Server.

Connects with the SDK's own ``MCPServerStreamableHttp``; both ``Agent``s list it in
``mcp_servers`` and the ``Runner`` calls the server's tools for them. The researcher posts a
finding and hands over the session id, the reviewer finds the finding with
``search_context`` and posts an answer.

    SCS_URL=http://127.0.0.1:23456/mcp SCS_API_KEY=... \\
        uv run --project examples --group examples python examples/openai_agents_team.py

Offline by default (a ``Model`` subclass plays ``playbook.py``; tracing export is off);
``SCS_EXAMPLES_MODEL=gpt-4o-mini`` (with ``OPENAI_API_KEY``) uses the SDK's OpenAI model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import playbook
from agents import Agent, Model, ModelResponse, Runner, Usage, set_tracing_disabled
from agents.mcp import MCPServerStreamableHttp
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

RESEARCHER, REVIEWER = "openai-agents-researcher", "openai-agents-reviewer"


def _item_text(item: Any) -> str:
    if isinstance(item, dict):
        return playbook.text_of(item.get("content") or item.get("output") or "")
    return playbook.text_of(item)


class PlaybookModel(Model):
    """An Agents SDK ``Model`` that plays ``playbook.py`` instead of calling an LLM."""

    def __init__(self) -> None:
        self.calls = 0

    async def get_response(
        self, system_instructions: str | None, input: Any, *args: Any, **kwargs: Any
    ) -> ModelResponse:
        items = [input] if isinstance(input, str) else list(input)
        transcript = "\n".join([system_instructions or "", *(_item_text(i) for i in items)])
        step = playbook.next_step(transcript)
        self.calls += 1
        output: Any
        if isinstance(step, playbook.ToolCall):
            output = ResponseFunctionToolCall(
                type="function_call",
                id=f"fc_{self.calls}",
                call_id=f"call_{self.calls}",
                name=step.name,
                arguments=json.dumps(step.arguments),
            )
        else:
            output = ResponseOutputMessage(
                id=f"msg_{self.calls}",
                type="message",
                role="assistant",
                status="completed",
                content=[ResponseOutputText(type="output_text", text=step.text, annotations=[])],
            )
        return ModelResponse(output=[output], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the offline playbook model does not stream")


def model(settings: playbook.Settings) -> Model | str:
    if settings.offline:
        set_tracing_disabled(True)  # traces would be uploaded to OpenAI
        return PlaybookModel()
    return settings.model or ""


async def main() -> None:
    settings = playbook.settings()
    # Identity headers are optional: every call below carries its own api_key or auth_token.
    params = {
        "url": settings.url,
        "headers": playbook.connection_headers(settings, "openai-agents"),
    }
    async with MCPServerStreamableHttp(
        params, name="shared-context", cache_tools_list=True, client_session_timeout_seconds=30
    ) as server:
        researcher = Agent(
            name=RESEARCHER,
            instructions=playbook.researcher_prompt(RESEARCHER, settings.api_key),
            mcp_servers=[server],
            model=model(settings),
        )
        handoff = await Runner.run(researcher, "Investigate the checkout latency regression.")
        reviewer = Agent(
            name=REVIEWER,
            instructions=playbook.reviewer_prompt(
                REVIEWER, settings.api_key, str(handoff.final_output)
            ),
            mcp_servers=[server],
            model=model(settings),
        )
        await Runner.run(reviewer, "Review what the researcher recorded.")
        session_id = playbook.session_of(str(handoff.final_output))
        if session_id is None:
            raise SystemExit(f"FAILED: no session id in the handoff: {handoff.final_output}")
        # Check through the same MCP server object, as a third agent reading the blackboard.
        auth = await server.call_tool(
            "authenticate_agent", {"agent_id": "openai-agents-checker", "api_key": settings.api_key}
        )
        token = playbook.token_of(playbook.text_of(auth.content))
        messages = await server.call_tool(
            "get_messages", {"session_id": session_id, "auth_token": token}
        )
        messages_text = playbook.text_of(messages.content)
    outcome = playbook.check(session_id, messages_text, RESEARCHER, REVIEWER)
    playbook.report("openai-agents", outcome)


if __name__ == "__main__":
    asyncio.run(main())
