"""The `usage` built-in: tokens per agent and model, kept in the state store and in /metrics.

At `after_llm` the provider's usage for the turn (`input_tokens`, `output_tokens`) is added,
atomically (`StateStore.update`, so concurrent turns lose nothing), to the state key
`<agent>|<model>` in the scope `usage`: it survives restarts and `llmspell usage` reads it from
outside. The same counts since this process started are kept in memory and offered to
Prometheus as the counter `llmspell_llm_tokens_total{agent, model, direction}`: the object is a
prometheus-client collector, registered with `registry.register(usage)`.

With `prices` (US dollars per million tokens, by model label: `{"openai/gpt-4o-mini" =
{input = 0.15, output = 0.60}}`) each turn's cost is added too (`cost_usd`, and the counter
`llmspell_llm_cost_usd_total{agent, model}`); a model without a price costs nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from llmspell.runtime.hooks import HookRegistry
from llmspell.runtime.state import StateStore
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

SCOPE = "usage"
PRIORITY = 100


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _cost(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def add_usage(
    current: Any, input_tokens: int, output_tokens: int, cost: float = 0.0
) -> dict[str, Any]:
    """One turn's tokens (and cost) added to a stored total (None when the key is new)."""
    base = current if isinstance(current, dict) else {}
    total: dict[str, Any] = {
        "input_tokens": _count(base.get("input_tokens")) + input_tokens,
        "output_tokens": _count(base.get("output_tokens")) + output_tokens,
        "calls": _count(base.get("calls")) + 1,
        "cost_usd": round(_cost(base.get("cost_usd")) + cost, 9),
    }
    total["total_tokens"] = total["input_tokens"] + total["output_tokens"]
    return total


class UsageCounter(Collector):
    def __init__(
        self, state: StateStore, prices: dict[str, dict[str, float]] | None = None
    ) -> None:
        self.state = state
        self.prices = dict(prices or {})
        """Model label -> {input, output}: US dollars per million tokens."""
        self.totals: dict[tuple[str, str], list[int]] = {}
        """(agent, model) -> [input, output] since this process started."""
        self.costs: dict[tuple[str, str], float] = {}

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        price = self.prices.get(model, {})
        return (
            input_tokens * price.get("input", 0.0) + output_tokens * price.get("output", 0.0)
        ) / 1_000_000

    def install(self, hooks: HookRegistry) -> list[int]:
        return [hooks.register("after_llm", self.after, priority=PRIORITY, name="builtin:usage")]

    async def after(self, ctx: dict[str, Any]) -> None:
        usage = ctx.get("usage") if isinstance(ctx.get("usage"), dict) else {}
        assert isinstance(usage, dict)
        spent_in, spent_out = _count(usage.get("input_tokens")), _count(usage.get("output_tokens"))
        agent, model = str(ctx.get("agent", "")), str(ctx.get("model", ""))
        mine = self.totals.setdefault((agent, model), [0, 0])
        mine[0] += spent_in
        mine[1] += spent_out
        cost = self.cost(model, spent_in, spent_out)
        self.costs[(agent, model)] = self.costs.get((agent, model), 0.0) + cost

        async def add(current: Any) -> dict[str, Any]:
            return add_usage(current, spent_in, spent_out, cost)

        await self.state.update(SCOPE, f"{agent}|{model}", add)

    def describe(self) -> Iterable[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        tokens = CounterMetricFamily(
            "llmspell_llm_tokens",
            "Model tokens spent by agents, by agent, model and direction (input or output)",
            labels=["agent", "model", "direction"],
        )
        cost = CounterMetricFamily(
            "llmspell_llm_cost_usd",
            "What agents' model calls cost, in US dollars, by the configured prices",
            labels=["agent", "model"],
        )
        for (agent, model), (spent_in, spent_out) in sorted(self.totals.items()):
            tokens.add_metric([agent, model, "input"], spent_in)
            tokens.add_metric([agent, model, "output"], spent_out)
            cost.add_metric([agent, model], self.costs.get((agent, model), 0.0))
        return [tokens, cost]


def rows(entries: Iterable[tuple[str, Any]]) -> list[tuple[str, str, int, int, int, float]]:
    """`(key, value)` pairs of the `usage` scope as (agent, model, input, output, total,
    cost in US dollars)."""
    out = []
    for key, value in entries:
        agent, _, model = key.partition("|")
        value = value if isinstance(value, dict) else {}
        spent_in, spent_out = _count(value.get("input_tokens")), _count(value.get("output_tokens"))
        out.append(
            (agent, model, spent_in, spent_out, spent_in + spent_out, _cost(value.get("cost_usd")))
        )
    return sorted(out)
