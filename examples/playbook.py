"""The scenario every framework example plays, and the offline "model" that plays it.

Two agents share context through Shared Context Server:

* the **researcher** authenticates, opens a session, posts a finding and hands the
  session id on;
* the **reviewer** authenticates as itself, searches the session for the finding and posts
  an answer that cites the message it found.

Offline (the default) each framework's own fake/scripted chat model asks :func:`next_step`
what to do. ``next_step`` reads only the conversation the framework gives the model (the
prompt and the tool results), exactly as a real model would, so every argument it puts into
a tool call (token, session id, message id) came back from the server through the
framework's MCP integration. With ``SCS_EXAMPLES_MODEL`` set (and the provider's key, e.g.
``OPENAI_API_KEY``) the examples give the same prompts to a real model instead.

This module is framework-neutral and uses only the standard library.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

FINDING = (
    "Finding: checkout latency p95 rose from 180 ms to 2.4 s after release 42; "
    "the cause is an N+1 query in OrderRepository.list_items."
)
SEARCH_QUERY = "checkout latency"
ANSWER_PREFIX = "Answer:"
HANDOFF_PREFIX = "HANDOFF"

_TOKEN = re.compile(r'\\*"token\\*"\s*:\s*\\*"([A-Za-z0-9_.\-]+)')
# A session id the server returned (JSON field) or an agent handed over (session_id=...);
# not the example id in the tools' descriptions.
_SESSION = re.compile(r'session_id\\*"?\s*[:=]\s*\\*"?(session_[0-9a-f]{8,})\b')
_MESSAGE_ID = re.compile(r'\\*"message_id\\*"\s*:\s*(\d+)')
_HIT = re.compile(r'\\*"id\\*"\s*:\s*(\d+)\s*,[^{}]*?\\*"sender\\*"\s*:\s*\\*"([A-Za-z0-9_.\-]+)')


@dataclass(frozen=True)
class Settings:
    """What every example reads from the environment."""

    url: str
    api_key: str
    model: str | None
    transport: str = "streamable_http"
    stdio_command: list[str] = field(default_factory=list)

    @property
    def offline(self) -> bool:
        return self.model is None


def settings() -> Settings:
    """SCS_URL + SCS_API_KEY (required); SCS_EXAMPLES_MODEL picks a real model.

    SCS_STDIO_COMMAND (a JSON list, e.g. ``["scs", "serve", "--transport", "stdio"]``)
    makes the examples that support it start the server over stdio instead of SCS_URL.
    """
    api_key = os.environ.get("SCS_API_KEY", "")
    if not api_key:
        sys.exit("SCS_API_KEY is not set: use the key from api_keys.txt or `scs keys list`.")
    stdio = os.environ.get("SCS_STDIO_COMMAND")
    command = json.loads(stdio) if stdio else []
    if command and not (isinstance(command, list) and all(isinstance(c, str) for c in command)):
        sys.exit("SCS_STDIO_COMMAND must be a JSON list of strings.")
    return Settings(
        url=os.environ.get("SCS_URL", "http://127.0.0.1:23456/mcp"),
        api_key=api_key,
        model=os.environ.get("SCS_EXAMPLES_MODEL") or None,
        transport="stdio" if command else "streamable_http",
        stdio_command=command,
    )


def connection_headers(settings: Settings, framework: str) -> dict[str, str]:
    """Connection identity headers (SPEC §16) for frameworks that pass HTTP headers.

    The examples do not depend on them: every call carries the agent's own ``auth_token``,
    which takes precedence, so researcher and reviewer act as themselves on one connection.
    """
    return {
        "X-API-Key": settings.api_key,
        "X-Agent-Id": f"{framework}-team",
        "X-Agent-Type": "team",
    }


def researcher_prompt(agent_id: str, api_key: str) -> str:
    return (
        "You are the researcher. Use the Shared Context Server tools.\n"
        f"1. Call authenticate_agent with agent_id={agent_id!r}, agent_type='researcher' and "
        f"api_key={api_key!r}; pass the returned token as auth_token on every later call.\n"
        "2. Call create_session with purpose='checkout latency investigation'.\n"
        f"3. Call add_message in that session with exactly this content: {FINDING}\n"
        f"4. Reply with one line: {HANDOFF_PREFIX} session_id=<the session id>."
    )


def reviewer_prompt(agent_id: str, api_key: str, handoff: str) -> str:
    return (
        "You are the reviewer. Use the Shared Context Server tools. "
        f"The researcher said: {handoff}\n"
        f"1. Call authenticate_agent with agent_id={agent_id!r}, agent_type='reviewer' and "
        f"api_key={api_key!r}; pass the returned token as auth_token on every later call.\n"
        f"2. Call search_context in that session with query={SEARCH_QUERY!r}.\n"
        "3. Call add_message in that session with content starting "
        f"'{ANSWER_PREFIX} (re message #<id of the finding> by <its sender>)' and a one-line "
        "recommendation.\n"
        "4. Reply with that answer."
    )


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    text: str


Step = ToolCall | Reply

_AGENT = re.compile(r"agent_id='([A-Za-z0-9_.\-]+)'")
_KEY = re.compile(r"api_key='([^']+)'")


def next_step(transcript: str) -> Step:
    """The offline model: the next tool call or reply, from the conversation text alone."""
    reviewer = "You are the reviewer" in transcript
    if reviewer:  # a shared team conversation: only what came after this agent's brief
        transcript = transcript[transcript.rindex("You are the reviewer") :]
    agent = _AGENT.search(transcript)
    key = _KEY.search(transcript)
    if agent is None or key is None:
        return Reply("I was not told which agent to be.")
    token = _last(_TOKEN, transcript)
    if token is None:
        role = "reviewer" if reviewer else "researcher"
        return ToolCall(
            "authenticate_agent",
            {"agent_id": agent.group(1), "agent_type": role, "api_key": key.group(1)},
        )
    session = _last(_SESSION, transcript)
    if not reviewer:
        return _researcher_step(transcript, token, session)
    return _reviewer_step(transcript, token, session)


def _researcher_step(transcript: str, token: str, session: str | None) -> Step:
    if session is None:
        return ToolCall(
            "create_session", {"purpose": "checkout latency investigation", "auth_token": token}
        )
    if _last(_MESSAGE_ID, transcript) is None:
        return ToolCall(
            "add_message", {"session_id": session, "content": FINDING, "auth_token": token}
        )
    return Reply(f"{HANDOFF_PREFIX} session_id={session}")


def _reviewer_step(transcript: str, token: str, session: str | None) -> Step:
    if session is None:
        return Reply("The researcher did not hand over a session id.")
    hits = [(int(i), s) for i, s in _HIT.findall(transcript)]
    if not hits and "results" not in transcript:
        return ToolCall(
            "search_context", {"session_id": session, "query": SEARCH_QUERY, "auth_token": token}
        )
    if not hits:
        return Reply("The search found nothing in the session.")
    message_id, sender = hits[0]
    answer = (
        f"{ANSWER_PREFIX} (re message #{message_id} by {sender}) confirmed; batch the "
        "OrderRepository.list_items query before release 43."
    )
    if _last(_MESSAGE_ID, transcript) is None:
        return ToolCall(
            "add_message", {"session_id": session, "content": answer, "auth_token": token}
        )
    return Reply(answer)


def _last(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.findall(text)
    return found[-1] if found else None


def session_of(text: str) -> str | None:
    """The session id in a handoff line (or any text)."""
    return _last(_SESSION, text)


def text_of(result: Any) -> str:
    """The text of a tool result as a framework hands it back (str, content blocks, ...)."""
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        return str(result.get("text", json.dumps(result)))
    if isinstance(result, list | tuple):
        return "".join(text_of(part) for part in result)
    text = getattr(result, "text", None)
    return text if isinstance(text, str) else str(result)


def token_of(text: str) -> str | None:
    return _last(_TOKEN, text)


@dataclass(frozen=True)
class Outcome:
    session_id: str
    senders: list[str]
    finding_id: int
    answer: str


def check(session_id: str, messages_json: str, researcher: str, reviewer: str) -> Outcome:
    """Exit non-zero unless the session shows the shared-context effect.

    ``messages_json`` is the text of a ``get_messages`` result. The reviewer's answer must
    cite the researcher's finding by id and sender, which it can only know from the search.
    """
    body = _json_object(messages_json)
    messages = body.get("messages", [])
    finding = next(
        (m for m in messages if m.get("sender") == researcher and m.get("content") == FINDING),
        None,
    )
    if finding is None:
        sys.exit(f"FAILED: no finding from {researcher} in {session_id}")
    cite = f"(re message #{finding['id']} by {researcher})"
    answer = next(
        (m for m in messages if m.get("sender") == reviewer and cite in str(m.get("content", ""))),
        None,
    )
    if answer is None:
        sys.exit(f"FAILED: {reviewer} posted no answer citing {cite} in {session_id}")
    senders = sorted({str(m.get("sender")) for m in messages})
    return Outcome(session_id, senders, int(finding["id"]), str(answer["content"]))


def report(framework: str, outcome: Outcome) -> None:
    """Print what happened, then one JSON line the tests read."""
    print(f"[{framework}] session {outcome.session_id}: agents {', '.join(outcome.senders)}")
    print(f"[{framework}] finding #{outcome.finding_id} was found by search and answered:")
    print(f"[{framework}]   {outcome.answer}")
    print(
        json.dumps(
            {
                "framework": framework,
                "session_id": outcome.session_id,
                "senders": outcome.senders,
                "finding_id": outcome.finding_id,
            }
        )
    )


def _json_object(text: str) -> dict[str, Any]:
    start = text.find("{")
    if start < 0:
        sys.exit(f"FAILED: not a JSON result: {text[:200]}")
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as exc:
        sys.exit(f"FAILED: unreadable result ({exc}): {text[:200]}")
    return value if isinstance(value, dict) else {}
