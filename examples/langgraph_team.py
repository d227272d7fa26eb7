"""LangGraph: two ReAct agents share context through Shared Context Server.

Connects with langchain-mcp-adapters (``MultiServerMCPClient`` + ``load_mcp_tools``); the
server's tools become LangChain tools that a LangGraph ``ToolNode`` runs. The researcher
posts a finding, the reviewer finds it with ``search_context`` and posts an answer.

    SCS_URL=http://127.0.0.1:23456/mcp SCS_API_KEY=... \\
        uv run --project examples --group examples python examples/langgraph_team.py

Offline by default (a LangChain fake chat model plays the script in ``playbook.py``);
``SCS_EXAMPLES_MODEL=gpt-4o-mini`` (with ``OPENAI_API_KEY``) uses a real model.
``SCS_STDIO_COMMAND='["scs", "serve", "--transport", "stdio"]'`` starts the server over
stdio instead of connecting to SCS_URL.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import playbook
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import BaseTool
from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

RESEARCHER, REVIEWER = "langgraph-researcher", "langgraph-reviewer"


class ScriptedChatModel(GenericFakeChatModel):
    """LangChain's fake chat model, fed one step at a time from the offline playbook."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self  # the script already knows the tool names; a real model gets schemas

    def _generate(self, messages: list[AnyMessage], *args: Any, **kwargs: Any) -> Any:
        step = playbook.next_step("\n".join(playbook.text_of(m.content) for m in messages))
        if isinstance(step, playbook.ToolCall):
            reply = AIMessage(
                content="",
                tool_calls=[{"name": step.name, "args": step.arguments, "id": f"call_{step.name}"}],
            )
        else:
            reply = AIMessage(content=step.text)
        self.messages = iter([reply])
        return super()._generate(messages, *args, **kwargs)


def chat_model(settings: playbook.Settings) -> BaseChatModel:
    if settings.offline:
        return ScriptedChatModel(messages=iter(()))
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=settings.model)


def react_agent(model: BaseChatModel, tools: list[BaseTool]) -> Any:
    """model -> tools -> model ... until the model answers without a tool call."""
    bound = model.bind_tools(tools)

    async def think(state: MessagesState) -> dict[str, list[AnyMessage]]:
        return {"messages": [await bound.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", think)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition)
    graph.add_edge("tools", "model")
    return graph.compile()


def connection(settings: playbook.Settings) -> dict[str, Any]:
    if settings.transport == "stdio":
        command, *args = settings.stdio_command
        # The server reads its SCS_* settings (data dir, keys) from this environment.
        return {"transport": "stdio", "command": command, "args": args, "env": dict(os.environ)}
    # Identity headers are optional: every call below carries its own api_key or auth_token.
    return {
        "transport": "streamable_http",
        "url": settings.url,
        "headers": playbook.connection_headers(settings, "langgraph"),
    }


async def main() -> None:
    settings = playbook.settings()
    client = MultiServerMCPClient({"scs": connection(settings)})
    async with client.session("scs") as mcp_session:
        tools = await load_mcp_tools(mcp_session)
        by_name = {tool.name: tool for tool in tools}
        model = chat_model(settings)

        team = StateGraph(MessagesState)
        researcher = react_agent(model, tools)
        reviewer = react_agent(model, tools)

        async def research(state: MessagesState) -> dict[str, Any]:
            brief = HumanMessage(playbook.researcher_prompt(RESEARCHER, settings.api_key))
            result = await researcher.ainvoke({"messages": [brief]})
            return {"messages": [AIMessage(str(result["messages"][-1].content), name=RESEARCHER)]}

        async def review(state: MessagesState) -> dict[str, Any]:
            handoff = str(state["messages"][-1].content)
            brief = HumanMessage(playbook.reviewer_prompt(REVIEWER, settings.api_key, handoff))
            result = await reviewer.ainvoke({"messages": [brief]})
            return {"messages": [AIMessage(str(result["messages"][-1].content), name=REVIEWER)]}

        team.add_node("researcher", research)
        team.add_node("reviewer", review)
        team.add_edge(START, "researcher")
        team.add_edge("researcher", "reviewer")
        team.add_edge("reviewer", END)
        final = await team.compile().ainvoke({"messages": []})

        session_id = playbook.session_of(str(final["messages"][0].content))
        if session_id is None:
            raise SystemExit(f"FAILED: no session in the handoff: {final['messages'][0].content}")
        # Check through the same integration, as a third agent reading the blackboard.
        auth = await by_name["authenticate_agent"].ainvoke(
            {"agent_id": "langgraph-checker", "api_key": settings.api_key}
        )
        token = playbook.token_of(playbook.text_of(auth))
        messages = await by_name["get_messages"].ainvoke(
            {"session_id": session_id, "auth_token": token}
        )
    outcome = playbook.check(session_id, playbook.text_of(messages), RESEARCHER, REVIEWER)
    playbook.report("langgraph", outcome)


if __name__ == "__main__":
    asyncio.run(main())
