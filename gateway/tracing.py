"""OpenTelemetry tracing, with the `llmspell[otel]` extra: the SDK's tracer provider and an
exporter, set up from `[tracing]`.

The MCP SDK already opens a span for every request it serves (its parent taken from the
request's `_meta.traceparent`) and writes the current trace context into the `_meta` of every
request it sends, so with a provider in place the trace runs caller -> gateway -> upstream.
The gateway adds a span per pipeline call (`tool calculator`, `agent writer`)."""

from __future__ import annotations

import sys
from typing import Any

from .config import ConfigError, TracingConfig


def setup(config: TracingConfig) -> Any:
    """Install the provider; returns it (to shut down at exit), or None when tracing is off."""
    if not config.enabled:
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )
    except ImportError:
        raise ConfigError(
            "[tracing] needs OpenTelemetry's SDK: pip install 'llmspell[otel]'"
        ) from None
    provider = TracerProvider(resource=Resource.create({"service.name": config.service_name}))
    if config.exporter == "console":
        # stderr, never stdout: stdout may be the MCP stdio channel.
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfigError(
                '[tracing] exporter = "otlp" needs opentelemetry-exporter-otlp-proto-http: '
                "pip install 'llmspell[otel]'"
            ) from None
        exporter = OTLPSpanExporter(endpoint=config.endpoint) if config.endpoint else None
        provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def tracer() -> Any:
    from opentelemetry import trace

    return trace.get_tracer("llmspell")
