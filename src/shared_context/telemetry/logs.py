"""Logging set-up: ``text`` for people, ``json`` (one object per line) for log pipelines.

Every record carries the running tool call's request id, tool and agent id when there is one
(``calls.current_call``). Secrets never reach the output: API keys (``scs_…``) and JWTs are
replaced by ``[redacted]`` in the message and every field, and no log call of ours passes
message content, keys or tokens in the first place.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from shared_context.telemetry.calls import current_call

LogFormat = Literal["auto", "text", "json"]

_SECRET = re.compile(
    # our API keys (scs_ + 43 url-safe characters); metric names (lower case) do not match
    r"scs_(?=[A-Za-z0-9_\-]*[A-Z0-9])[A-Za-z0-9_\-]{32,}"
    r"|eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"  # JWTs
    r"|(?i:bearer)\s+[A-Za-z0-9._\-~+/]{8,}=*"
)
REDACTED = "[redacted]"
# LogRecord's own attributes; anything else on a record came in through ``extra=``.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


def redact(text: str) -> str:
    return _SECRET.sub(REDACTED, text)


def _call_fields() -> dict[str, Any]:
    call = current_call.get()
    if call is None:
        return {}
    fields: dict[str, Any] = {"request_id": call.request_id, "tool": call.tool}
    if call.agent_id is not None:
        fields["agent_id"] = call.agent_id
    if call.trace_id is not None:
        fields["trace_id"] = call.trace_id
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the call's fields, extras."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        body.update(_call_fields())
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                body[key] = _clean(value)
        if record.exc_info:
            body["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(body, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        fields = _call_fields()
        if fields:
            line += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        return line


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def resolve_format(fmt: LogFormat, stream: TextIO) -> Literal["text", "json"]:
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def configure_logging(level: str, fmt: LogFormat = "auto", stream: TextIO | None = None) -> str:
    """Install one stderr handler on the root logger (replacing earlier ones of ours, so it
    is idempotent). Returns the format chosen."""
    stream = stream or sys.stderr
    chosen = resolve_format(fmt, stream)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    handler.set_name("shared_context")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "shared_context"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn and FastMCP install handlers of their own; route them through ours instead.
    for name in ("uvicorn", "uvicorn.error", "fastmcp"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return chosen
