"""What each pipeline stage costs: in-process `pipeline.invoke` of a built-in tool, per setup.

Every case is a runtime assembled as the gateway assembles it (gateway/assembly.py) from a
config with one stage turned on; the first case is the baseline the others are divided by. Add
a case to measure a stage; the cases are timed in interleaved rounds so drift hits all alike.
`python -m llmspell.bench pipeline [--runs N]` prints the table on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from llmspell.gateway.assembly import Assembly, Mode, assemble
from llmspell.gateway.config import GatewayConfig
from llmspell.runtime import Invocation, Runtime

CALLS_PER_ROUND = 1000
TOOL, ARGS = "calculator", {"expression": "1+1"}
POLICY = {
    "default": "deny",
    "rules": [  # three rules, the last one matching: the walk a real policy does
        {"effect": "deny", "components": ["fs.*"]},
        {"effect": "allow", "components": ["github.*"], "scopes": ["admin"]},
        {"effect": "allow", "components": ["calc*", "uuid-*"]},
    ],
}
LIMITS = {"rate": "1000000/second", "call_timeout": 30.0, "max_result_bytes": 1 << 20}
"""A per-identity rate no call reaches, a default deadline and a result cap."""


@dataclass(frozen=True)
class Case:
    label: str
    config: dict[str, Any] = field(default_factory=dict)
    """`llmspell.toml` keys, as the gateway reads them."""
    hook: bool = False
    """A no-op `before_tool` hook, as a script's `Hook.register` adds one."""
    metrics: bool = False
    """The Prometheus observer the gateway's `/metrics` adds."""


CASES = [
    Case("plain"),
    Case("1 no-op before_tool hook", hook=True),
    Case("policy (3 rules)", {"policy": POLICY}),
    Case("limits (rate, timeout, result cap)", {"limits": LIMITS}),
    Case("metrics (Prometheus observer)", metrics=True),
    Case("all of the above", {"policy": POLICY, "limits": LIMITS}, hook=True, metrics=True),
]


async def _noop(context: dict[str, Any]) -> None:
    return None


def _observe(parts: Assembly, case: Case) -> None:
    if case.hook:
        parts.runtime.hooks.register("before_tool", _noop)
    if case.metrics:
        from llmspell.gateway.metrics import Metrics

        Metrics(parts.runtime)


async def _round(runtime: Runtime, calls: int) -> float:
    invoke = runtime.pipeline.invoke
    started = time.perf_counter()
    for _ in range(calls):
        await invoke(Invocation(TOOL, dict(ARGS)))
    return (time.perf_counter() - started) / calls * 1e6


async def _measure(runs: int, cases: list[Case]) -> list[dict[str, Any]]:
    mode = Mode(frozenset({"builtins", "hardening"}))
    async with contextlib.AsyncExitStack() as stack:
        runtimes = []
        for case in cases:
            config = GatewayConfig.model_validate(case.config)
            parts = await stack.enter_async_context(assemble(config, mode))
            _observe(parts, case)
            result = await parts.runtime.pipeline.invoke(Invocation(TOOL, dict(ARGS)))
            assert not result.is_error, result
            runtimes.append(parts.runtime)
        for runtime in runtimes:  # warm-up: schema compilation, caches
            await _round(runtime, CALLS_PER_ROUND // 5)
        times: list[list[float]] = [[] for _ in cases]
        for _ in range(runs):
            for i, runtime in enumerate(runtimes):
                times[i].append(await _round(runtime, CALLS_PER_ROUND))
    base = statistics.median(times[0])
    return [
        {
            "label": case.label,
            "us_per_call": statistics.median(values),
            "x_plain": statistics.median(values) / base,
        }
        for case, values in zip(cases, times, strict=True)
    ]


def pipeline_overhead(runs: int, cases: list[Case] | None = None) -> list[dict[str, Any]]:
    """µs per `pipeline.invoke(calculator 1+1)` for each case: median of `runs` rounds."""
    return asyncio.run(_measure(max(1, runs), CASES if cases is None else cases))


def print_overhead(rows: list[dict[str, Any]]) -> None:
    print("pipeline overhead: in-process pipeline.invoke(calculator 1+1), median of rounds")
    print(f"{'case':<36}{'µs/call':>9}{'x plain':>9}")
    for row in rows:
        print(f"{row['label']:<36}{row['us_per_call']:>9.1f}{row['x_plain']:>9.2f}")


def run(runs: int = 15) -> int:
    print_overhead(pipeline_overhead(runs))
    return 0
