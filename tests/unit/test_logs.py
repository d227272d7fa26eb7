"""Log formatting: JSON and text lines carry the running call's fields; secrets are redacted."""

from __future__ import annotations

import io
import json
import logging

from shared_context.telemetry.calls import CallContext, current_call, note_agent
from shared_context.telemetry.logs import configure_logging, redact, resolve_format

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
KEY = "scs_Q2hhbmdlTWVDaGFuZ2VNZUNoYW5nZU1l"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_secrets_are_redacted() -> None:
    text = f"key {KEY} token {JWT} header Bearer abcdefgh12345678 plain words"
    cleaned = redact(text)
    assert KEY not in cleaned and JWT not in cleaned and "abcdefgh12345678" not in cleaned
    assert cleaned.count("[redacted]") == 3 and cleaned.endswith("plain words")
    generated = "scs_" + "aB3-_" * 9  # the shape keys.generate_key() makes
    assert redact(f"key={generated}") == "key=[redacted]"
    names = "scs_tool_call_duration_seconds scs_db_writer_queue_max_depth"
    assert redact(names) == names


def test_auto_format_is_text_on_a_terminal_and_json_otherwise() -> None:
    assert resolve_format("auto", _Tty()) == "text"
    assert resolve_format("auto", io.StringIO()) == "json"
    assert resolve_format("text", io.StringIO()) == "text"


def test_json_lines_carry_the_call_and_redact_extras() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    try:
        assert configure_logging("info", "json", stream) == "json"
        assert configure_logging("info", "json", stream) == "json"  # idempotent: one handler
        token = current_call.set(CallContext(request_id="r1", tool="get_messages"))
        try:
            note_agent("alice")
            logging.getLogger("shared_context.test").info(
                "saw %s", JWT, extra={"detail": KEY, "n": 3}
            )
        finally:
            current_call.reset(token)
        try:
            raise ValueError(KEY)
        except ValueError:
            logging.getLogger("shared_context.test").exception("failed")
    finally:
        for h in [h for h in root.handlers if h.get_name() == "shared_context"]:
            root.removeHandler(h)
        root.setLevel(level)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["request_id"] == "r1" and first["agent_id"] == "alice"
    assert first["tool"] == "get_messages" and first["n"] == 3
    assert first["message"] == "saw [redacted]" and first["detail"] == "[redacted]"
    assert "request_id" not in second and KEY not in second["exception"]
    assert KEY not in stream.getvalue() and JWT not in stream.getvalue()


def test_text_lines_append_the_call_fields() -> None:
    stream = _Tty()
    root = logging.getLogger()
    level = root.level
    try:
        assert configure_logging("debug", "auto", stream) == "text"
        token = current_call.set(CallContext(request_id="r2", tool="add_message"))
        try:
            logging.getLogger("shared_context.test").debug("with %s", KEY)
        finally:
            current_call.reset(token)
    finally:
        for h in [h for h in root.handlers if h.get_name() == "shared_context"]:
            root.removeHandler(h)
        root.setLevel(level)
    line = stream.getvalue().strip()
    assert line.endswith("with [redacted] [request_id=r2 tool=add_message]")
    assert " DEBUG shared_context.test: " in line
