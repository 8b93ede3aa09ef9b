"""OpenTelemetry tracing and JSON logs that carry trace ids.

The exporter follows the standard variables: `OTEL_TRACES_EXPORTER` (`otlp`, `console` or
`none`, the default), `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`. Traces cross gRPC
calls (the gRPC instrumentation) and NATS messages (W3C trace context in message headers,
written by the event log and continued by `continue_trace`).

With no exporter (`none`, the default, and no extra exporter) nothing is installed: the
tracer provider stays OpenTelemetry's no-op one, the gRPC server gets no tracing interceptor
(`tracing()` is False) and the event log skips its spans, so telemetry that nobody reads
costs nothing per call.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from hearth_eventlog import tracing_installed

from .config import ConfigError, Env

_provider: TracerProvider | None = None


@dataclass
class Telemetry:
    """The tracer provider of this process (None: tracing is off); `shutdown()` flushes
    what is buffered."""

    provider: TracerProvider | None
    exporters: list[SpanExporter] = field(default_factory=list)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.force_flush(timeout_millis=5000)


def tracing() -> bool:
    """Whether spans are recorded in this process (an SDK tracer provider is installed)."""
    return _provider is not None


def setup_telemetry(
    service_name: str,
    environ: Mapping[str, str] | None = None,
    *,
    extra_exporters: Sequence[SpanExporter] = (),
) -> Telemetry:
    """Install the process-wide tracer provider once; later calls add exporters to it."""
    global _provider
    env = Env(environ)
    exporter = env.choice("OTEL_TRACES_EXPORTER", "none", ("none", "console", "otlp"))
    if _provider is None and exporter == "none" and not extra_exporters:
        return Telemetry(None)  # nothing would read a span: install nothing
    if _provider is None:
        name = env.text("OTEL_SERVICE_NAME", service_name)
        _provider = TracerProvider(resource=Resource.create({"service.name": name}))
        trace.set_tracer_provider(_provider)
        if exporter == "console":
            _provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif exporter == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                    OTLPSpanExporter,
                )
            except ImportError as e:  # pragma: no cover - installed with the runtime
                raise ConfigError(f"OTEL_TRACES_EXPORTER=otlp needs the OTLP exporter: {e}") from e
            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for extra in extra_exporters:
        _provider.add_span_processor(SimpleSpanProcessor(extra))
    return Telemetry(_provider, list(extra_exporters))


@contextmanager
def continue_trace(
    name: str, trace_context: Sequence[tuple[str, str]], **attributes: str | int
) -> Iterator[trace.Span]:
    """A consumer span whose parent is the producer's span carried in NATS headers."""
    if not trace_context and not tracing_installed():
        # Nothing to continue and nothing to record it: a follower calls this per event.
        yield trace.INVALID_SPAN
        return
    parent = propagate.extract(dict(trace_context))
    tracer = trace.get_tracer("hearth_runtime")
    with tracer.start_as_current_span(
        name, context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the current trace and span ids."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = f"{context.trace_id:032x}"
            entry["span_id"] = f"{context.span_id:016x}"
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonLogFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
