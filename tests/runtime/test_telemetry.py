"""JSON logs carry the trace they were written in; trace context survives a NATS hop."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from opentelemetry import propagate, trace

from hearth_runtime.telemetry import JsonLogFormatter, continue_trace, setup_telemetry
from tests.runtime.support import SPANS


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("hearth.test", logging.INFO, __file__, 1, message, None, None)


def test_json_log_lines_carry_trace_and_span_ids() -> None:
    setup_telemetry("hearth-tests", {}, extra_exporters=[SPANS])
    formatter = JsonLogFormatter("identity")
    outside = json.loads(formatter.format(record("idle")))
    assert "trace_id" not in outside
    with trace.get_tracer("t").start_as_current_span("work") as span:
        line = json.loads(formatter.format(record("registered")))
    context = span.get_span_context()
    assert line["message"] == "registered"
    assert line["service"] == "identity"
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"


def test_consumer_span_continues_the_producer_trace_from_headers() -> None:
    setup_telemetry("hearth-tests", {}, extra_exporters=[SPANS])
    headers: dict[str, str] = {}
    with trace.get_tracer("t").start_as_current_span("produce") as producer:
        propagate.inject(headers)
    assert "traceparent" in headers
    with continue_trace("consume", tuple(headers.items())) as consumer:
        pass
    assert consumer.get_span_context().trace_id == producer.get_span_context().trace_id
    assert consumer.parent is not None  # type: ignore[attr-defined]
    assert consumer.parent.span_id == producer.get_span_context().span_id  # type: ignore[attr-defined]


def test_with_no_exporter_nothing_is_installed() -> None:
    """Exporter `none`: no SDK provider, so no span is made on a call or an append (in a
    process of its own: the tests' provider is process-wide)."""
    script = (
        "from opentelemetry import trace\n"
        "from hearth_runtime.telemetry import setup_telemetry, tracing\n"
        "t = setup_telemetry('x', {'OTEL_TRACES_EXPORTER': 'none'})\n"
        "t.shutdown()\n"
        "print(tracing(), type(trace.get_tracer_provider()).__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "ProxyTracerProvider"]
