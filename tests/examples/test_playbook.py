"""The examples' scenario and offline model (examples/playbook.py), and the check that makes
an example exit non-zero when the shared-context effect did not happen."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import pytest

from tests.examples.test_framework_examples import EXAMPLES


def load_playbook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("playbook", EXAMPLES / "playbook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("playbook", module)
    spec.loader.exec_module(module)
    return module


playbook = load_playbook()
SESSION = "session_00000000000000aa"


def result(**body: Any) -> str:
    return json.dumps({"success": True, **body})


def test_researcher_steps_follow_the_server_results() -> None:
    transcript = playbook.researcher_prompt("r-1", "key-1")
    step = playbook.next_step(transcript)
    assert step == playbook.ToolCall(
        "authenticate_agent", {"agent_id": "r-1", "agent_type": "researcher", "api_key": "key-1"}
    )
    transcript += result(token="tok.r")
    assert playbook.next_step(transcript).name == "create_session"
    # The example id in a tool description is not a session the server returned.
    transcript += "Session id, e.g. session_0123456789abcdef." + result(session_id=SESSION)
    step = playbook.next_step(transcript)
    assert step == playbook.ToolCall(
        "add_message", {"session_id": SESSION, "content": playbook.FINDING, "auth_token": "tok.r"}
    )
    transcript += result(message_id=7, session_id=SESSION)
    assert playbook.next_step(transcript) == playbook.Reply(f"HANDOFF session_id={SESSION}")


def test_reviewer_ignores_what_came_before_its_brief_and_cites_the_hit() -> None:
    earlier = result(token="tok.researcher") + result(message_id=7)
    transcript = earlier + playbook.reviewer_prompt("v-1", "key-1", f"HANDOFF session_id={SESSION}")
    assert playbook.next_step(transcript).arguments["agent_id"] == "v-1"
    transcript += result(token="tok.v")
    step = playbook.next_step(transcript)
    assert step.name == "search_context" and step.arguments["auth_token"] == "tok.v"
    hit = {"message": {"id": 7, "session_id": SESSION, "sender": "r-1"}, "score": 90.0}
    transcript += result(results=[hit], count=1)
    step = playbook.next_step(transcript)
    assert step.name == "add_message"
    assert "(re message #7 by r-1)" in step.arguments["content"]
    transcript += result(message_id=8)
    assert isinstance(playbook.next_step(transcript), playbook.Reply)


def test_reviewer_gives_up_when_the_search_finds_nothing() -> None:
    transcript = playbook.reviewer_prompt("v-1", "k", f"HANDOFF session_id={SESSION}")
    transcript += result(token="t") + result(results=[], count=0)
    reply = playbook.next_step(transcript)
    assert reply == playbook.Reply("The search found nothing in the session.")


def messages(*rows: tuple[int, str, str]) -> str:
    return result(messages=[{"id": i, "sender": s, "content": c} for i, s, c in rows])


def test_check_passes_only_with_the_finding_and_an_answer_citing_it() -> None:
    finding = (7, "r-1", playbook.FINDING)
    good = messages(finding, (8, "v-1", "Answer: (re message #7 by r-1) fix it"))
    outcome = playbook.check(SESSION, good, "r-1", "v-1")
    assert outcome.senders == ["r-1", "v-1"] and outcome.finding_id == 7
    for bad in (
        messages(finding),
        messages(finding, (8, "v-1", "Answer: (re message #6 by r-1) fix it")),
        messages(finding, (8, "r-1", "Answer: (re message #7 by r-1) fix it")),
        messages((8, "v-1", "Answer: (re message #7 by r-1) fix it")),
        "not json",
    ):
        with pytest.raises(SystemExit):
            playbook.check(SESSION, bad, "r-1", "v-1")


def test_tool_results_are_read_in_every_framework_shape() -> None:
    blocks = [{"type": "text", "text": result(token="a.b")}]
    assert playbook.token_of(playbook.text_of(blocks)) == "a.b"
    escaped = json.dumps(result(token="c.d"))  # a result quoted inside another JSON string
    assert playbook.token_of(escaped) == "c.d"
