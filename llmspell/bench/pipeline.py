"""What each pipeline stage costs: in-process `pipeline.invoke` of a built-in tool, per setup.

Every case is a (label, setup) pair applied to a fresh Runtime with the built-ins registered;
the first case is the baseline the others are divided by. Add a case to measure a stage
(policy, limits, ...); the cases are timed in interleaved rounds so drift hits all alike.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmspell.adapters.tools import register_builtins
from llmspell.runtime import Invocation, Runtime

CALLS_PER_ROUND = 1000
TOOL, ARGS = "calculator", {"expression": "1+1"}

Setup = Callable[[Runtime], None]


def _plain(runtime: Runtime) -> None:
    pass


def _one_hook(runtime: Runtime) -> None:
    async def noop(context: dict[str, Any]) -> None:
        return None

    runtime.hooks.register("before_tool", noop)


def _policy(runtime: Runtime) -> None:
    """Three rules, the last one matching: the walk a real policy does."""
    from llmspell.gateway.config import PolicyConfig
    from llmspell.gateway.policy import RulePolicy

    runtime.pipeline.policy = RulePolicy.of(
        PolicyConfig.model_validate(
            {
                "default": "deny",
                "rules": [
                    {"effect": "deny", "components": ["fs.*"]},
                    {"effect": "allow", "components": ["github.*"], "scopes": ["admin"]},
                    {"effect": "allow", "components": ["calc*", "uuid-*"]},
                ],
            }
        )
    )


def _limits(runtime: Runtime) -> None:
    """A per-identity rate no call reaches, a default deadline and a result cap."""
    from llmspell.gateway.limits import RateLimiter

    runtime.pipeline.limiter = RateLimiter("1000000/second")
    runtime.pipeline.default_timeout = 30.0
    runtime.pipeline.max_result_bytes = 1 << 20


def _metrics(runtime: Runtime) -> None:
    from llmspell.gateway.metrics import Metrics

    Metrics(runtime)


def _everything(runtime: Runtime) -> None:
    for setup in (_one_hook, _policy, _limits, _metrics):
        setup(runtime)


CASES: list[tuple[str, Setup]] = [
    ("plain", _plain),
    ("1 no-op before_tool hook", _one_hook),
    ("policy (3 rules)", _policy),
    ("limits (rate, timeout, result cap)", _limits),
    ("metrics (Prometheus observer)", _metrics),
    ("all of the above", _everything),
]


async def _round(runtime: Runtime, calls: int) -> float:
    invoke = runtime.pipeline.invoke
    started = time.perf_counter()
    for _ in range(calls):
        await invoke(Invocation(TOOL, dict(ARGS)))
    return (time.perf_counter() - started) / calls * 1e6


async def _measure(runs: int, cases: list[tuple[str, Setup]]) -> list[dict[str, Any]]:
    runtimes = []
    for _, setup in cases:
        runtime = Runtime()
        register_builtins(runtime.catalog, roots=[Path.cwd()])
        setup(runtime)
        result = await runtime.pipeline.invoke(Invocation(TOOL, dict(ARGS)))
        assert not result.is_error, result
        runtimes.append(runtime)
    for runtime in runtimes:  # warm-up: schema compilation, caches
        await _round(runtime, CALLS_PER_ROUND // 5)
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(runs):
        for i, runtime in enumerate(runtimes):
            times[i].append(await _round(runtime, CALLS_PER_ROUND))
    base = statistics.median(times[0])
    return [
        {
            "label": label,
            "us_per_call": statistics.median(values),
            "x_plain": statistics.median(values) / base,
        }
        for (label, _), values in zip(cases, times, strict=True)
    ]


def pipeline_overhead(
    runs: int, cases: list[tuple[str, Setup]] | None = None
) -> list[dict[str, Any]]:
    """µs per `pipeline.invoke(calculator 1+1)` for each case: median of `runs` rounds."""
    return asyncio.run(_measure(max(1, runs), CASES if cases is None else cases))
