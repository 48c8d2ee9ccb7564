"""What a workflow adds to the calls it makes: per step, per parallel branch, per stream item.

Every step of a workflow is an ordinary `pipeline.invoke` of a catalog component, so the
baseline is that same call made directly. The tool is a registered no-op, so what is timed is
the workflow engine and the pipeline, not the tool. Workflow and baseline are timed in
interleaved rounds (order alternating) so drifting machine load hits both alike.
`python -m llmspell.bench workflow [--steps N] [--rounds N] [--fanout N] [--items N]`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from llmspell.runtime import Component, Invocation, Result, Runtime
from llmspell.runtime.workflow import (
    Branch,
    Emit,
    Parallel,
    RunContext,
    Sequential,
    Step,
    Stream,
    Workflow,
    component,
)

TOOL, ARGS = "bench_noop", {"x": 1}
STEPS_PER_ROUND = 2000
"""Steps each side runs per timed round, whatever the workflow's length."""
TARGET_STEP_US = 30.0
TARGET_STREAM_MB = 10.0
CONCURRENCY = 50
GATHER = "direct (asyncio.gather)"


async def _noop(inv: Invocation) -> Result:
    return Result()


def _runtime(*workflows: Workflow) -> Runtime:
    """A plain runtime with the no-op tool and `workflows` registered."""
    runtime = Runtime()
    runtime.catalog.register(Component(TOOL, _noop, description="does nothing"))
    for workflow in workflows:
        runtime.catalog.register(component(workflow, runtime.pipeline))
    return runtime


def _step(name: str) -> Step:
    return Step(name, target=TOOL, args=ARGS)


async def _call(runtime: Runtime, name: str) -> Result:
    """Call `name` with no arguments; it must succeed."""
    result = await runtime.pipeline.invoke(Invocation.create(name))
    assert not result.is_error, result
    return result


# -- 1. added cost per step ------------------------------------------------------------------


async def _timed(body: Callable[[], Awaitable[None]], repeats: int) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        await body()
    return time.perf_counter() - started


async def _per_step(steps: int, rounds: int) -> tuple[float, float]:
    """Median µs per step: (direct `pipeline.invoke`, the same calls as workflow steps)."""
    flow = Workflow("bench_sequential", Sequential(tuple(_step(f"s{i}") for i in range(steps))))
    runtime = _runtime(flow)
    invoke = runtime.pipeline.invoke

    async def direct() -> None:
        for _ in range(steps):
            await invoke(Invocation.create(TOOL, ARGS))

    async def workflow() -> None:
        await invoke(Invocation.create(flow.name))

    repeats = max(1, STEPS_PER_ROUND // steps)
    await _call(runtime, flow.name)
    sides = {"direct": direct, "workflow": workflow}
    for body in sides.values():  # warm-up: schema compilation, caches
        await _timed(body, max(1, repeats // 5))
    times: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(rounds):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for name in order:
            seconds = await _timed(sides[name], repeats)
            times[name].append(seconds / (repeats * steps) * 1e6)
    return statistics.median(times["direct"]), statistics.median(times["workflow"])


# -- 2. fan-out --------------------------------------------------------------------------------


async def _fanout(branches: int, rounds: int) -> dict[str, float]:
    """Median ms for `branches` parallel one-step branches, all at once and at most
    CONCURRENCY at a time, against as many direct calls in as many tasks (asyncio.gather)."""
    fan = tuple(Branch(f"b{i}", (_step("s"),)) for i in range(branches))
    flows = {
        "all at once": Workflow("bench_fanout", Parallel(fan)),
        f"max_concurrency={CONCURRENCY}": Workflow(
            "bench_fanout_capped", Parallel(fan, max_concurrency=CONCURRENCY)
        ),
    }
    runtime = _runtime(*flows.values())
    invoke = runtime.pipeline.invoke

    async def gather() -> None:
        await asyncio.gather(*(invoke(Invocation.create(TOOL, ARGS)) for _ in range(branches)))

    sides: dict[str, Callable[[], Awaitable[Any]]] = {GATHER: gather}
    for label, flow in flows.items():
        sides[label] = functools.partial(_call, runtime, flow.name)
    for body in sides.values():  # warm-up
        await body()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, body in sides.items():
            times[name].append(await _timed(body, 1) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


# -- 3. stream memory ------------------------------------------------------------------------


async def _stream(items: int) -> float:
    """Seconds to run a stream of `items` through one no-op step each."""

    async def source(emit: Emit, ctx: RunContext) -> None:
        for i in range(items):
            await emit(i)

    flow = Workflow("bench_stream", Stream(source, (_step("s"),), buffer=16))
    runtime = _runtime(flow)
    started = time.perf_counter()
    result = await _call(runtime, flow.name)
    seconds = time.perf_counter() - started
    assert result.data["items"] == items, result.data
    return seconds


def measure_stream(items: int) -> None:
    """Run one stream of `items` and print this process's peak RSS (KiB) and its time."""
    seconds = asyncio.run(_stream(items))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"items": items, "maxrss_kib": peak, "seconds": seconds}))


def _stream_run(items: int) -> dict[str, Any]:
    """One stream in a fresh process, so its peak RSS is its own."""
    command = [sys.executable, "-m", "llmspell.bench", "workflow", "--stream-child", str(items)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


# -- the report --------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _print_steps(steps: int, rounds: int, direct: float, flow: float) -> None:
    added = flow - direct
    print(f"workflow: sequential, {steps} steps of a no-op tool, median of {rounds} rounds")
    print(f"{'path':<36}{'µs/step':>9}{'x direct':>10}")
    print(f"{'direct pipeline.invoke':<36}{direct:>9.1f}{1.0:>10.2f}")
    print(f"{'workflow step':<36}{flow:>9.1f}{flow / direct:>10.2f}")
    ok = added <= TARGET_STEP_US
    print(f"added per step: {added:.1f} µs (target ≤ {TARGET_STEP_US:g} µs) {_verdict(ok)}")


def _print_fanout(branches: int, rounds: int, ms: dict[str, float]) -> None:
    base = ms[GATHER]
    print(f"\nworkflow: parallel, {branches} one-step branches, median of {rounds} rounds")
    print(f"{'path':<36}{'total ms':>9}{'µs/branch':>11}{'x direct':>10}")
    for name, total in ms.items():
        print(f"{name:<36}{total:>9.2f}{total * 1000 / branches:>11.1f}{total / base:>10.2f}")


def _print_stream(runs: list[tuple[int, dict[str, Any]]]) -> None:
    print("\nworkflow: stream, buffer=16, one no-op step per item, each in a fresh process")
    print(f"{'items':<36}{'peak RSS MB':>12}{'µs/item':>9}")
    for n, figures in runs:
        mb, per_item = figures["maxrss_kib"] / 1024, figures["seconds"] / n * 1e6
        print(f"{n:<36,}{mb:>12.1f}{per_item:>9.1f}")
    small, big = (figures["maxrss_kib"] / 1024 for _, figures in runs)
    ok = abs(big - small) <= TARGET_STREAM_MB
    print(
        f"peak RSS difference: {big - small:+.1f} MB "
        f"(target within {TARGET_STREAM_MB:g} MB) {_verdict(ok)}"
    )


def run(
    steps: int = 20,
    rounds: int = 15,
    fanout: int = 1000,
    items: int = 100_000,
    stream_child: int | None = None,
) -> int:
    if stream_child is not None:  # the suite's own child process: one stream, its peak RSS
        measure_stream(stream_child)
        return 0
    steps, rounds, fanout, items = (max(1, n) for n in (steps, rounds, fanout, items))
    # The streams first: a child's ru_maxrss starts at its parent's peak when it forks (Linux
    # keeps the larger across exec), so they are spawned before this process grows.
    streams = [(n, _stream_run(n)) for n in (max(1, min(1000, items // 100)), items)]
    _print_steps(steps, rounds, *asyncio.run(_per_step(steps, rounds)))
    _print_fanout(fanout, rounds, asyncio.run(_fanout(fanout, rounds)))
    _print_stream(streams)
    return 0
