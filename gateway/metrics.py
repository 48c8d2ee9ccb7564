"""Prometheus metrics at `/metrics` (prometheus-client), one registry per gateway.

Calls are counted by the pipeline's observer hook (a few counter and histogram updates per
call, no event bus); upstream states and MCP sessions are read when the endpoint is scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from llmspell.runtime import Component, Invocation, Runtime
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.calls = Counter(
            "llmspell_calls",
            "Calls through the pipeline, by component and outcome",
            ["component", "kind", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "llmspell_call_seconds",
            "Call latency through the pipeline, by component",
            ["component"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.upstream_calls = Counter(
            "llmspell_upstream_calls",
            "Calls to remote MCP servers, by upstream and outcome",
            ["upstream", "outcome"],
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "llmspell_upstream_call_seconds",
            "Latency of calls to remote MCP servers, by upstream",
            ["upstream"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "llmspell_http_requests",
            "HTTP requests, by method and status",
            ["method", "status"],
            registry=self.registry,
        )
        runtime.pipeline.observers.append(self.observe)

    def observe(self, component: Component, inv: Invocation, seconds: float, outcome: str) -> None:
        self.calls.labels(component.name, component.kind, outcome).inc()
        self.latency.labels(component.name).observe(seconds)
        if component.source.startswith("mcp:"):
            upstream = component.source[4:]
            self.upstream_calls.labels(upstream, outcome).inc()
            self.upstream_latency.labels(upstream).observe(seconds)

    def gauges(
        self,
        upstreams: Callable[[], list[dict[str, Any]]],
        sessions: Callable[[], int],
        mcp_requests: Callable[[], dict[str, Any]],
    ) -> None:
        """Read at scrape time: upstream up/down and breaker state, active MCP sessions, and
        the counts the lean legs keep (the same figures `/readyz` shows)."""
        self.registry.register(_Live(upstreams, sessions, mcp_requests))

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _Live(Collector):
    def __init__(
        self,
        upstreams: Callable[[], list[dict[str, Any]]],
        sessions: Callable[[], int],
        mcp_requests: Callable[[], dict[str, Any]],
    ) -> None:
        self._upstreams = upstreams
        self._sessions = sessions
        self._mcp_requests = mcp_requests

    def describe(self) -> Iterable[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        up = GaugeMetricFamily(
            "llmspell_upstream_up", "1 when the upstream is connected", labels=["upstream"]
        )
        breaker = GaugeMetricFamily(
            "llmspell_upstream_breaker_open",
            "1 while the upstream's circuit breaker is open or half-open",
            labels=["upstream"],
        )
        legs = CounterMetricFamily(
            "llmspell_upstream_leg_calls",
            "Federated tools/call by the way they went: lean (one POST) or the SDK session, "
            "with the reason",
            labels=["upstream", "leg", "reason"],
        )
        for u in self._upstreams():
            up.add_metric([u["name"]], 1.0 if u["state"] == "ready" else 0.0)
            breaker.add_metric([u["name"]], 0.0 if u.get("breaker", "closed") == "closed" else 1.0)
            calls = u.get("calls")
            if calls:
                legs.add_metric([u["name"], "lean", ""], float(calls["lean"]))
                for why, count in calls["fallback_by"].items():
                    legs.add_metric([u["name"], "sdk", why], float(count))
        sessions = GaugeMetricFamily("llmspell_mcp_sessions", "Active MCP sessions")
        sessions.add_metric([], float(self._sessions()))
        served = CounterMetricFamily(
            "llmspell_mcp_requests",
            "Requests to /mcp by who answered them (the lean leg or the SDK) and method",
            labels=["leg", "method"],
        )
        counts = self._mcp_requests()
        for leg in ("lean", "sdk"):
            for method, count in counts.get(f"{leg}_by", {}).items():
                served.add_metric([leg, method], float(count))
        return [up, breaker, sessions, legs, served]
