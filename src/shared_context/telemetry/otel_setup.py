"""Building the SDK tracer provider from the standard OTEL_* variables (``otel`` extra only;
imported only when tracing is configured)."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.sdk.resources import SERVICE_NAME as SERVICE_NAME_KEY
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from shared_context.telemetry.tracing import SERVICE_NAME


def build_exporters(env: Mapping[str, str]) -> list[SpanExporter]:
    names = [
        n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if n.strip()
    ]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            # HTTP/protobuf: endpoint, headers, timeout and compression come from the
            # standard OTEL_EXPORTER_OTLP_* variables, read by the exporter itself.
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER={name!r} is not supported; use otlp or console")
    return exporters


def build_provider(env: Mapping[str, str]) -> TracerProvider:
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; ours is the default.
    named = env.get("OTEL_SERVICE_NAME") or "service.name=" in env.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    resource = Resource.create({} if named else {SERVICE_NAME_KEY: SERVICE_NAME})
    provider = TracerProvider(resource=resource)
    for exporter in build_exporters(env):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
