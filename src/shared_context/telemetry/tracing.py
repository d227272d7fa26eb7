"""Optional OpenTelemetry traces.

Disabled unless the ``otel`` extra (the OpenTelemetry SDK) is installed *and* an exporter is
configured by the standard variables (``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_ENDPOINT``
or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; ``OTEL_SDK_DISABLED=true`` turns it off). Disabled,
``Tracing.span`` returns one shared null context: no span objects, no context switches.

Enabled, the provider is also installed as the global one, so the spans FastMCP and the MCP
SDK emit for every request (``tools/call <name>``) are exported too, with ours beneath them:
``scs.tool`` per tool call, ``scs.db.read`` / ``scs.db.write`` per storage operation and
``scs.db.write_batch`` per writer transaction.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

_NULL: contextlib.nullcontext[None] = contextlib.nullcontext()
SERVICE_NAME = "shared-context-server"
Attributes = Mapping[str, str | int | float | bool]


class Tracing:
    """The tracer one server uses; ``Tracing()`` is the disabled one."""

    def __init__(self, tracer: Any = None, provider: Any = None) -> None:
        self._tracer = tracer
        self._provider = provider

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def span(
        self, name: str, attributes: Attributes | None = None
    ) -> contextlib.AbstractContextManager[Any]:
        """A child of the current span, made current while the block runs."""
        if self._tracer is None:
            return _NULL
        span: contextlib.AbstractContextManager[Any] = self._tracer.start_as_current_span(
            name, attributes=attributes
        )
        return span

    def child_span(
        self, name: str, attributes: Attributes | None = None
    ) -> contextlib.AbstractContextManager[Any]:
        """Like ``span``, but only inside a trace: background work (presence flushes, sweeps)
        does not start traces of its own every second."""
        if self._tracer is None or self.current() is None:
            return _NULL
        return self.span(name, attributes)

    def current(self) -> Any:
        """The current span (to hand to another thread), or None when disabled."""
        if self._tracer is None:
            return None
        from opentelemetry import trace

        span = trace.get_current_span()
        return span if span.get_span_context().is_valid else None

    @contextlib.contextmanager
    def span_for(
        self, name: str, parents: Sequence[Any], attributes: Attributes | None = None
    ) -> Iterator[Any]:
        """A span in another thread for work done on behalf of several callers (a writer
        batch): the child of the first caller's span, linked to the others'."""
        if self._tracer is None or not parents:
            yield None
            return
        from opentelemetry import trace

        links = [trace.Link(p.get_span_context()) for p in parents[1:]]
        context = trace.set_span_in_context(parents[0])
        with self._tracer.start_as_current_span(
            name, context=context, links=links, attributes=attributes
        ) as span:
            yield span

    def shutdown(self) -> None:
        """Flush and stop the exporter (on server stop)."""
        if self._provider is not None:
            self._provider.shutdown()

    @classmethod
    def for_provider(cls, provider: Any) -> Tracing:
        """Use an already configured SDK ``TracerProvider`` (tests, embedding)."""
        return cls(provider.get_tracer("shared_context"), provider)


def sdk_installed() -> bool:
    return importlib.util.find_spec("opentelemetry.sdk") is not None


def exporter_configured(env: Mapping[str, str]) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(
        exporter
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def tracing_from_environment(env: Mapping[str, str] | None = None) -> Tracing:
    """Once per process (the server's command): the configured exporter, or disabled."""
    env = os.environ if env is None else env
    if not exporter_configured(env):
        return Tracing()
    if not sdk_installed():
        log.warning(
            "OTEL_* tracing variables are set but the OpenTelemetry SDK is not installed; "
            "install shared-context-server[otel] to export traces."
        )
        return Tracing()
    from shared_context.telemetry.otel_setup import build_provider

    provider = build_provider(env)
    from opentelemetry import trace

    trace.set_tracer_provider(provider)
    return Tracing.for_provider(provider)
