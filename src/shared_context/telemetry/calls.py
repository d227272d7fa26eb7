"""One tool call, measured once: the duration histogram and counters, a span, a log line.

The call's identity (request id, tool, agent) lives in a context variable while it runs, so
every log record emitted on its behalf — by any layer — carries it (see ``logs``).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram

from shared_context.telemetry.readings import DURATION_BUCKETS
from shared_context.telemetry.tracing import Tracing

MAX_TOOL_NAMES = 128
OTHER_TOOLS = "(other)"
UNKNOWN_TOOL = "(unknown)"
# Error codes that mean "the caller could not be authenticated".
AUTH_CODES = frozenset({"AUTH_REQUIRED", "TOKEN_EXPIRED", "TOKEN_INVALID", "INVALID_API_KEY"})
MAX_CODE_CHARS = 40

access_log = logging.getLogger("shared_context.calls")


@dataclass(slots=True)
class CallContext:
    request_id: str
    tool: str
    agent_id: str | None = None
    trace_id: str | None = None


current_call: ContextVar[CallContext | None] = ContextVar("scs_current_call", default=None)


def note_agent(agent_id: str) -> None:
    """The verified caller of the running call (set when its token is resolved)."""
    call = current_call.get()
    if call is not None:
        call.agent_id = agent_id


class Call:
    """Handed to the tool-call middleware: it reports the outcome before the block ends."""

    __slots__ = ("code", "context", "unknown")

    def __init__(self, context: CallContext) -> None:
        self.context = context
        self.code: str | None = None
        self.unknown = False

    def failed(self, code: str) -> None:
        self.code = code[:MAX_CODE_CHARS]

    def unknown_tool(self) -> None:
        """The name matched no tool: counted under one label, not under the caller's text."""
        self.unknown = True


class CallRecorder:
    def __init__(self, registry: CollectorRegistry, tracing: Tracing) -> None:
        self.tracing = tracing
        self.duration = Histogram(
            "scs_tool_call_duration_seconds",
            "Time from a tool call's arrival at the server's middleware to its answer.",
            ["tool"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.calls = Counter(
            "scs_tool_calls", "Tool calls answered, successful or not.", ["tool"], registry=registry
        )
        self.errors = Counter(
            "scs_tool_errors",
            "Tool calls answered with an error, by error code.",
            ["tool", "code"],
            registry=registry,
        )
        self.auth_failures = Counter(
            "scs_auth_failures",
            "Requests refused because the caller could not be authenticated, by error code.",
            ["code"],
            registry=registry,
        )
        self._names: set[str] = set()
        self._children: dict[str, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def label(self, name: str) -> str:
        """Tool names come from callers: bounded to the first MAX_TOOL_NAMES seen."""
        if name in self._names:
            return name
        with self._lock:
            if len(self._names) >= MAX_TOOL_NAMES:
                return OTHER_TOOLS
            self._names.add(name)
        return name

    def observe(self, tool: str, seconds: float, code: str | None) -> None:
        label = self.label(tool)
        children = self._children.get(label)
        if children is None:  # labels() costs a lock and a tuple check per call: cache it
            children = self._children.setdefault(
                label, (self.duration.labels(label), self.calls.labels(label))
            )
        children[0].observe(seconds)
        children[1].inc()
        if code is not None:
            self.errors.labels(label, code).inc()
            if code in AUTH_CODES:
                self.auth_failures.labels(code).inc()

    def auth_failure(self, code: str) -> None:
        """A refusal outside tool calls (e.g. an HTTP endpoint)."""
        self.auth_failures.labels(code[:MAX_CODE_CHARS]).inc()

    def _span(self, tool: str) -> AbstractContextManager[Any]:
        """FastMCP opens one SERVER span per request (``tools/call <name>``) when tracing is
        global: we enrich that one rather than nest a second (which would also stop FastMCP
        from enriching its own). Without it (e.g. an in-process client), ``scs.tool``."""
        current = self.tracing.current()
        if current is not None and current.is_recording():
            current.set_attribute("scs.tool", tool)
            return nullcontext(current)
        return self.tracing.span("scs.tool", {"scs.tool": tool})

    @contextmanager
    def call(self, tool: str) -> Iterator[Call]:
        # The name is labelled (bounded) only once it is known to be a tool: unknown names
        # must not use up the label slots.
        context = CallContext(request_id=secrets.token_hex(8), tool=tool[:100])
        token = current_call.set(context)
        call = Call(context)
        started = time.perf_counter()
        answered = False
        try:
            with self._span(context.tool) as span:
                if span is not None:
                    context.trace_id = format(span.get_span_context().trace_id, "032x")
                try:
                    yield call
                finally:
                    if span is not None:
                        _finish_span(span, call)
            answered = True
        finally:
            # An unknown tool leaves as a JSON-RPC error (an exception here): still a call.
            if answered or call.unknown:
                seconds = time.perf_counter() - started
                context.tool = UNKNOWN_TOOL if call.unknown else self.label(context.tool)
                self.observe(context.tool, seconds, call.code)
                access_log.info(
                    "tool call %s %s in %.1f ms",
                    context.tool,
                    call.code or "ok",
                    seconds * 1000,
                    extra={
                        "duration_ms": round(seconds * 1000, 3),
                        "outcome": call.code or "ok",
                    },
                )
            current_call.reset(token)


def _finish_span(span: object, call: Call) -> None:
    from opentelemetry.trace import Status, StatusCode

    context = call.context
    if call.unknown:  # do not keep the caller's text as the tool name
        span.set_attribute("scs.tool", UNKNOWN_TOOL)  # type: ignore[attr-defined]
    if context.agent_id:
        span.set_attribute("scs.agent_id", context.agent_id)  # type: ignore[attr-defined]
    span.set_attribute("scs.request_id", context.request_id)  # type: ignore[attr-defined]
    span.set_attribute("scs.outcome", call.code or "ok")  # type: ignore[attr-defined]
    if call.code is not None:
        span.set_status(Status(StatusCode.ERROR, call.code))  # type: ignore[attr-defined]


class _Identified(Protocol):
    @property
    def agent_id(self) -> str: ...


def note_caller(principal: _Identified) -> None:
    """``note_agent`` for an authentication hook that hands over the verified principal."""
    note_agent(principal.agent_id)
