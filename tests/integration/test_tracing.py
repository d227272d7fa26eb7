# OpenTelemetry types span attributes as optional unions of any value; the tests index them.
# mypy: disable-error-code="index, operator, union-attr"
"""OpenTelemetry traces: a span per tool call with its storage (and writer batch) spans
beneath it, seen through the SDK's in-memory exporter; and real OTLP export from a real
``scs serve`` to a receiver on 127.0.0.1, with FastMCP's request span as the parent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from shared_context.bootstrap import open_services
from shared_context.mcp.server import build_mcp
from shared_context.telemetry.tracing import Tracing, exporter_configured, tracing_from_environment
from tests.conftest import make_settings
from tests.helpers import call, fail, login

pytest.importorskip(
    "opentelemetry.sdk", reason="the OpenTelemetry SDK (the otel extra / dev group) is absent"
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)


def children(spans: tuple[ReadableSpan, ...], parent: ReadableSpan) -> list[ReadableSpan]:
    own = parent.context.span_id
    return [s for s in spans if s.parent is not None and s.parent.span_id == own]


def tool_span(spans: tuple[ReadableSpan, ...], tool: str) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.name == "scs.tool"
        and s.attributes["scs.tool"] == tool
        and s.attributes["scs.outcome"] == "ok"
    ]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


async def test_tool_call_spans_have_storage_children(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = Tracing.for_provider(provider)
    async with open_services(make_settings(tmp_path / "data"), tracing=tracing) as services:
        client = Client(build_mcp(services))
        async with client:
            token = await login(client, "tracer", "claude")
            sid = (await call(client, "create_session", purpose="t", auth_token=token))[
                "session_id"
            ]
            exporter.clear()
            await call(client, "add_message", session_id=sid, content="hello", auth_token=token)
            await call(client, "get_messages", session_id=sid, auth_token=token)
            await fail(
                client, "add_message", session_id="session_missing", content="x", auth_token=token
            )
    provider.shutdown()
    spans = exporter.get_finished_spans()

    post = tool_span(spans, "add_message")
    assert post.attributes["scs.outcome"] == "ok"
    assert post.attributes["scs.agent_id"] == "tracer"
    assert len(str(post.attributes["scs.request_id"])) == 16
    writes = [s for s in children(spans, post) if s.name == "scs.db.write"]
    assert len(writes) == 1
    batches = children(spans, writes[0])
    assert [b.name for b in batches] == ["scs.db.write_batch"]
    assert batches[0].attributes["scs.db.batch_size"] >= 1
    assert batches[0].context.trace_id == post.context.trace_id

    read = tool_span(spans, "get_messages")
    assert any(s.name == "scs.db.read" for s in children(spans, read))

    failed = [s for s in spans if s.name == "scs.tool" and s.attributes.get("scs.outcome") != "ok"]
    assert [s.attributes["scs.outcome"] for s in failed] == ["SESSION_NOT_FOUND"]
    assert not failed[0].status.is_ok


def test_tracing_is_off_unless_an_exporter_is_configured() -> None:
    assert not exporter_configured({})
    assert not exporter_configured({"OTEL_TRACES_EXPORTER": "none"})
    assert not exporter_configured(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert exporter_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    disabled = tracing_from_environment({})
    assert not disabled.enabled
    with disabled.span("x") as span:
        assert span is None
    assert disabled.current() is None


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        self.server.bodies.append((self.path, self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
async def test_otlp_export_from_a_real_server(
    tmp_path: Path, otlp_receiver: ThreadingHTTPServer
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from tests.helpers import AGENT_KEY
    from tests.server_process import ServerProcess, sdk_call, sdk_client, server_env

    port = otlp_receiver.server_address[1]
    data = tmp_path / "data"
    env = server_env(
        data,
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        OTEL_SERVICE_NAME="scs-under-test",
    )
    server = ServerProcess(data, env=env)
    try:
        server.start(timeout=90)  # imports alone take seconds on a loaded machine
        async with sdk_client(server.url) as client:
            login_body = await sdk_call(
                client,
                "authenticate_agent",
                agent_id="otlp",
                agent_type="claude",
                api_key=AGENT_KEY,
            )
            await sdk_call(
                client, "create_session", purpose="traced", auth_token=login_body["token"]
            )
    finally:
        code = server.stop()  # a graceful stop flushes the batch span processor
    assert code == 0, server.log()
    spans: list[Any] = []
    services: set[str] = set()
    for path, body in otlp_receiver.bodies:  # type: ignore[attr-defined]
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for attr in resource_spans.resource.attributes:
                if attr.key == "service.name":
                    services.add(attr.value.string_value)
            for scope in resource_spans.scope_spans:
                spans.extend(scope.spans)
    assert services == {"scs-under-test"}
    calls = [
        s
        for s in spans
        if any(
            a.key == "scs.tool" and a.value.string_value == "create_session" for a in s.attributes
        )
    ]
    # One span per call: FastMCP's request span, carrying our attributes too.
    assert [s.name for s in calls] == ["tools/call create_session"]
    outcome = {a.key: a.value.string_value for a in calls[0].attributes}
    assert outcome["scs.outcome"] == "ok" and outcome["scs.agent_id"] == "otlp"
    writes = [s for s in spans if s.name == "scs.db.write" and s.parent_span_id == calls[0].span_id]
    assert writes
    assert any(
        s.name == "scs.db.write_batch" and s.parent_span_id == writes[0].span_id for s in spans
    )


async def test_background_storage_work_starts_no_traces(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with open_services(
        make_settings(tmp_path / "data"), tracing=Tracing.for_provider(provider)
    ) as services:
        await services.store.ping()  # a read and a write outside any tool call
    provider.shutdown()
    assert exporter.get_finished_spans() == ()


def test_exporters_follow_otel_traces_exporter() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    from shared_context.telemetry.otel_setup import build_exporters, build_provider

    kinds = [type(e) for e in build_exporters({"OTEL_TRACES_EXPORTER": "otlp,console"})]
    assert kinds == [OTLPSpanExporter, ConsoleSpanExporter]
    assert [type(e) for e in build_exporters({})] == [OTLPSpanExporter]
    with pytest.raises(ValueError, match="zipkin"):
        build_exporters({"OTEL_TRACES_EXPORTER": "zipkin"})
    provider = build_provider({"OTEL_TRACES_EXPORTER": "console"})
    assert provider.resource.attributes["service.name"] == "shared-context-server"
    provider.shutdown()
