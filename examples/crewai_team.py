"""CrewAI: a two-agent sequential crew that shares context through Shared Context Server.

Connects with crewai-tools' ``MCPServerAdapter`` over Streamable HTTP; the server's tools
become CrewAI tools of both agents. The researcher's task posts a finding and hands over
the session id, the reviewer's task finds the finding with ``search_context`` and posts an
answer.

    SCS_URL=http://127.0.0.1:23456/mcp SCS_API_KEY=... \\
        uv run --project examples --group examples python examples/crewai_team.py

Offline by default (a scripted ``BaseLLM`` subclass answers in CrewAI's ReAct format from
``playbook.py``); ``SCS_EXAMPLES_MODEL=gpt-4o-mini`` (with ``OPENAI_API_KEY``) uses
``crewai.LLM`` instead.
"""

from __future__ import annotations

import json
import os
from typing import Any

# Offline and quiet: no telemetry or trace upload, no first-run prompt about traces.
os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
os.environ.setdefault("OTEL_SDK_DISABLED", "true")

import playbook
from crewai import LLM, Agent, Crew, Process, Task
from crewai.llms.base_llm import BaseLLM
from crewai_tools import MCPServerAdapter

RESEARCHER, REVIEWER = "crewai-researcher", "crewai-reviewer"


class ScriptedLLM(BaseLLM):
    """A CrewAI LLM that plays ``playbook.py`` and answers in CrewAI's ReAct text format."""

    def call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(messages, str):
            transcript = messages
        else:
            transcript = "\n".join(playbook.text_of(m.get("content", "")) for m in messages)
        step = playbook.next_step(transcript)
        if isinstance(step, playbook.ToolCall):
            return (
                f"Thought: I should call {step.name}.\n"
                f"Action: {step.name}\nAction Input: {json.dumps(step.arguments)}"
            )
        return f"Thought: I now know the final answer\nFinal Answer: {step.text}"

    def supports_function_calling(self) -> bool:
        return False  # ReAct text, parsed by CrewAI itself

    def get_input_tokens_count(self, messages: Any, *args: Any, **kwargs: Any) -> int:
        return len(str(messages)) // 4  # what BaseLLM estimates, without its warning

    def get_context_window_size(self) -> int:
        return 64_000


def llm(settings: playbook.Settings) -> BaseLLM:
    if settings.offline:
        return ScriptedLLM(model="scripted-playbook")
    return LLM(model=settings.model or "")


def main() -> None:
    settings = playbook.settings()
    # Identity headers are optional: every call below carries its own api_key or auth_token.
    server = {
        "url": settings.url,
        "transport": "streamable-http",
        "headers": playbook.connection_headers(settings, "crewai"),
    }
    with MCPServerAdapter(server, connect_timeout=30) as tools:
        # Both agents get every server tool; each acts as itself through its auth_token.
        crew_agent = {"tools": list(tools), "max_iter": 8, "verbose": False}
        researcher = Agent(
            role="Researcher",
            goal="Record findings on the shared blackboard",
            backstory="You investigate regressions and write down what you find.",
            llm=llm(settings),
            **crew_agent,
        )
        reviewer = Agent(
            role="Reviewer",
            goal="Answer from what the team has recorded",
            backstory="You review findings other agents recorded and recommend a fix.",
            llm=llm(settings),
            **crew_agent,
        )
        research = Task(
            description=playbook.researcher_prompt(RESEARCHER, settings.api_key),
            expected_output=f"One line: {playbook.HANDOFF_PREFIX} session_id=<id>",
            agent=researcher,
        )
        review = Task(
            description=playbook.reviewer_prompt(
                REVIEWER, settings.api_key, f"(the {playbook.HANDOFF_PREFIX} line in the context)"
            ),
            expected_output=f"The answer you posted, starting {playbook.ANSWER_PREFIX}",
            agent=reviewer,
            context=[research],
        )
        crew = Crew(
            agents=[researcher, reviewer],
            tasks=[research, review],
            process=Process.sequential,
            verbose=False,
        )
        crew.kickoff()
        session_id = playbook.session_of(str(research.output.raw if research.output else ""))
        if session_id is None:
            raise SystemExit(f"FAILED: no session id in the handoff: {research.output}")
        # Check through the same adapter, as a third agent reading the blackboard.
        by_name = {tool.name: tool for tool in tools}
        auth = by_name["authenticate_agent"].run(
            agent_id="crewai-checker", api_key=settings.api_key
        )
        token = playbook.token_of(playbook.text_of(auth))
        messages = by_name["get_messages"].run(session_id=session_id, auth_token=token)
    outcome = playbook.check(session_id, playbook.text_of(messages), RESEARCHER, REVIEWER)
    playbook.report("crewai", outcome)


if __name__ == "__main__":
    main()
