"""The numbers behind "metrics at a glance", read from the gateway's own `/metrics` text
(Prometheus exposition): per component, calls, failures and the latency histogram's buckets.
Totals since start are rendered on the page; the page's script polls this snapshot and turns
the differences between two of them into rates and percentiles over the last minutes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

CALLS = "llmspell_calls"
LATENCY = "llmspell_call_seconds"


@dataclass(slots=True)
class Component:
    calls: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)
    """Upper bound (seconds) -> cumulative count, as the histogram has them."""

    def quantile(self, q: float) -> float | None:
        return quantile(sorted(self.buckets.items()), q)

    def plain(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "errors": self.errors,
            "buckets": [
                [le if math.isfinite(le) else None, n] for le, n in sorted(self.buckets.items())
            ],
        }


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """The upper bound of the bucket the q-th call falls in (what a histogram can say)."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    for le, count in buckets:
        if count >= rank:
            return le if math.isfinite(le) else None
    return None


def parse(text: str) -> dict[str, Component]:
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, Component] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.labels.get("component")
            if name is None:
                continue
            entry = out.setdefault(name, Component())
            if sample.name == f"{CALLS}_total":
                entry.calls += sample.value
                if sample.labels.get("outcome") != "ok":
                    entry.errors += sample.value
            elif sample.name == f"{LATENCY}_bucket":
                entry.buckets[float(sample.labels["le"])] = sample.value
    return out
