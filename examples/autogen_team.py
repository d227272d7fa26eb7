"""AutoGen: a two-agent RoundRobinGroupChat that shares context through Shared Context Server.

Connects with autogen-ext's ``McpWorkbench`` over Streamable HTTP; each ``AssistantAgent``
gets the workbench and calls the server's tools itself. The researcher posts a finding and
hands over the session id, the reviewer finds the finding with ``search_context`` and posts
an answer.

    SCS_URL=http://127.0.0.1:23456/mcp SCS_API_KEY=... \\
        uv run --project examples --group examples python examples/autogen_team.py

Offline by default (AutoGen's ``ReplayChatCompletionClient`` replays the steps of
``playbook.py``); ``SCS_EXAMPLES_MODEL=gpt-4o-mini`` (with ``OPENAI_API_KEY``) uses
``OpenAIChatCompletionClient`` instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import playbook
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import EVENT_LOGGER_NAME, FunctionCall
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    RequestUsage,
)
from autogen_ext.models.replay import ReplayChatCompletionClient
from autogen_ext.tools.mcp import McpWorkbench, StreamableHttpServerParams

RESEARCHER, REVIEWER = "autogen-researcher", "autogen-reviewer"
TOOL_MODEL = ModelInfo(
    vision=False,
    function_calling=True,
    json_output=False,
    family=ModelFamily.UNKNOWN,
    structured_output=False,
)


class PlaybookReplayClient(ReplayChatCompletionClient):
    """AutoGen's replay client, given its next completion by the offline playbook."""

    def __init__(self) -> None:
        super().__init__([], model_info=TOOL_MODEL)
        # The replay client warns on every call that it counts tokens of text parts only.
        logging.getLogger(EVENT_LOGGER_NAME).setLevel(logging.ERROR)

    async def create(self, messages: Sequence[LLMMessage], **kwargs: Any) -> CreateResult:
        step = playbook.next_step("\n".join(playbook.text_of(m.content) for m in messages))
        if isinstance(step, playbook.ToolCall):
            call = FunctionCall(
                id=f"call_{len(self.chat_completions)}",
                name=step.name,
                arguments=json.dumps(step.arguments),
            )
            usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
            self.chat_completions.append(
                CreateResult(
                    finish_reason="function_calls", content=[call], usage=usage, cached=False
                )
            )
        else:
            self.chat_completions.append(step.text)
        return await super().create(messages, **kwargs)


def model_client(settings: playbook.Settings) -> ChatCompletionClient:
    if settings.offline:
        return PlaybookReplayClient()
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    return OpenAIChatCompletionClient(model=settings.model or "")


async def main() -> None:
    settings = playbook.settings()
    # Identity headers are optional: every call below carries its own api_key or auth_token.
    server = StreamableHttpServerParams(
        url=settings.url, headers=playbook.connection_headers(settings, "autogen")
    )
    async with McpWorkbench(server) as workbench:
        handoff = f"(the {playbook.HANDOFF_PREFIX} line in the conversation)"
        researcher = AssistantAgent(
            RESEARCHER.replace("-", "_"),
            model_client=model_client(settings),
            workbench=workbench,
            system_message=playbook.researcher_prompt(RESEARCHER, settings.api_key),
            max_tool_iterations=6,
        )
        reviewer = AssistantAgent(
            REVIEWER.replace("-", "_"),
            model_client=model_client(settings),
            workbench=workbench,
            system_message=playbook.reviewer_prompt(REVIEWER, settings.api_key, handoff),
            max_tool_iterations=6,
        )
        done = TextMentionTermination(playbook.ANSWER_PREFIX, sources=[reviewer.name])
        team = RoundRobinGroupChat(
            [researcher, reviewer], termination_condition=done | MaxMessageTermination(6)
        )
        result = await team.run(task="Investigate the checkout latency regression.")
        said = "\n".join(playbook.text_of(m.to_text()) for m in result.messages)
        session_id = playbook.session_of(said)
        if session_id is None:
            raise SystemExit(f"FAILED: no session id in the conversation: {said[-500:]}")
        # Check through the same workbench, as a third agent reading the blackboard.
        auth = await workbench.call_tool(
            "authenticate_agent", {"agent_id": "autogen-checker", "api_key": settings.api_key}
        )
        token = playbook.token_of(auth.to_text())
        messages = await workbench.call_tool(
            "get_messages", {"session_id": session_id, "auth_token": token}
        )
        messages_text = messages.to_text()
    playbook.report("autogen", playbook.check(session_id, messages_text, RESEARCHER, REVIEWER))


if __name__ == "__main__":
    asyncio.run(main())
