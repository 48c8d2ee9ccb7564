"""What events and hooks cost: `python -m llmspell.bench hooks [--events N] [--calls N] [--runs N]`.

1. Events published per second in process (`EventBus.publish`), with 1 and with 10 queued
   subscribers (each its own bounded queue and task, as `/events` clients are), and with one
   inline subscriber for reference. Events go out in batches smaller than a queue, each batch
   waited for (`EventBus.join`), so the rate counts delivered events: the drop count is printed
   and should be 0. Target: >= 200,000/s with one queued subscriber.
2. The cost of 5 no-op hooks (3 `before_tool`, 2 `after_tool`) on the built-in `calculator`
   called over MCP Streamable HTTP. Three gateway processes with the same config but for the
   hooks (all load a script): none, 5 from the Lua script, 5 Python callables declared in
   `[[hooks]]` (the entry point `noop`, below). One client takes the same call to each,
   interleaved A B C C B A so drift hits all alike; the medians are compared. Target: <= 2%
   added.

Targets are printed with PASS/MISS, never asserted: the figures are for a quiet machine.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from typing import Any

from llmspell.runtime.events import DEFAULT_QUEUE, EventBus

from . import _load
from ._procs import Procs, config_file

TARGET_EVENTS = 200_000.0
TARGET_ADDED = 0.02
BATCH = DEFAULT_QUEUE // 2
WARMUP_CALLS = 200
CALL = {"name": "calculator", "arguments": {"expression": "6*7"}}

HOOKS_SCRIPT = """\
fired = 0
local function noop(ctx) fired = fired + 1 end
for _ = 1, 3 do Hook.register("before_tool", noop, {match = "calculator"}) end
for _ = 1, 2 do Hook.register("after_tool", noop, {match = "calculator"}) end
Tool.define{name = "bench.fired", handler = function() return tostring(fired) end}
"""
PLAIN_SCRIPT = """\
fired = 0
Tool.define{name = "bench.fired", handler = function() return tostring(fired) end}
"""


# -- 1. events in process ------------------------------------------------------------------------


async def _publish_rate(subscribers: int, events: int, queued: bool) -> tuple[float, int]:
    """Events per second through `publish` to `subscribers` until every one is delivered, and
    how many were dropped."""
    bus = EventBus()
    seen = 0

    async def count(topic: str, data: Any) -> None:
        nonlocal seen
        seen += 1

    ids = [
        bus.subscribe("call.*", count, queue=DEFAULT_QUEUE if queued else None)
        for _ in range(subscribers)
    ]
    data = {"component": "calculator", "caller": "bench", "duration_ms": 0.1}
    publish = bus.publish
    started = time.perf_counter()
    for done in range(0, events, BATCH):
        for _ in range(min(BATCH, events - done)):
            await publish("call.finished", data)
        await bus.join()
    elapsed = time.perf_counter() - started
    dropped = sum(s.dropped for i in ids if (s := bus.subscription(i)) is not None)
    await bus.aclose()
    assert seen + dropped == events * subscribers, (seen, dropped)
    return events / elapsed, dropped


def events_section(events: int, runs: int) -> list[dict[str, Any]]:
    rows = []
    for label, subscribers, queued in (
        ("1 queued subscriber", 1, True),
        ("10 queued subscribers", 10, True),
        ("1 inline subscriber", 1, False),
    ):
        asyncio.run(_publish_rate(subscribers, min(events, 10_000), queued))  # warm-up
        rates, dropped = [], 0
        for _ in range(runs):
            rate, lost = asyncio.run(_publish_rate(subscribers, events, queued))
            rates.append(rate)
            dropped += lost
        rows.append(
            {
                "label": label,
                "subscribers": subscribers,
                "queued": queued,
                "events_per_s": statistics.median(rates),
                "dropped": dropped,
            }
        )
    return rows


def print_events(rows: list[dict[str, Any]], events: int) -> None:
    print(f"1. events published per second in process ({events:,} events, median of runs)")
    print(f"   {'subscribers':<24}{'events/s':>12}{'deliveries/s':>15}{'dropped':>9}")
    for row in rows:
        rate = row["events_per_s"]
        print(
            f"   {row['label']:<24}{rate:>12,.0f}{rate * row['subscribers']:>15,.0f}"
            f"{row['dropped']:>9}"
        )
    one = rows[0]["events_per_s"]
    verdict = "PASS" if one >= TARGET_EVENTS else "MISS"
    print(f"   one queued subscriber: {one:,.0f}/s (target ≥ {TARGET_EVENTS:,.0f}/s) {verdict}")


# -- 2. hooks over MCP -----------------------------------------------------------------------------


def _config(directory: str, name: str, script: str, extra: str = "") -> str:
    config_file(directory, f"{name}.lua", script)
    text = f'name = "bench-{name}"\nscripts = ["{name}.lua"]\n[a2a]\nenabled = false\n{extra}'
    return str(config_file(directory, f"{name}.toml", text))


PYTHON_HOOKS = "".join(
    f'[[hooks]]\npoint = "{point}"\npython = "noop"\nmatch = "calculator"\n'
    for point in ("before_tool",) * 3 + ("after_tool",) * 2
)
"""The same 5 hooks as Python callables, declared in the config (entry point `noop`)."""


async def noop(ctx: dict[str, Any]) -> None:
    """The `llmspell.hooks` entry point `noop`: a hook that does nothing, to measure the cost
    of the hook machinery itself."""


class _Session:
    """One MCP session on one gateway, posting `tools/call` as plain JSON-RPC over HTTP."""

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url
        [sid] = _load.open_sessions(url, 1)
        self.headers = {**_load.HEADERS, "Mcp-Session-Id": sid}
        self.ids = 0

    def call(self, params: dict[str, Any]) -> tuple[float, str]:
        self.ids += 1
        body = json.dumps(
            {"jsonrpc": "2.0", "id": self.ids, "method": "tools/call", "params": params}
        )
        started = time.perf_counter()
        reply = self.client.post(self.url, content=body, headers=self.headers)
        elapsed = (time.perf_counter() - started) * 1e6
        if reply.status_code != 200 or '"isError":false' not in reply.text:
            raise RuntimeError(f"{self.url}: {reply.status_code} {reply.text[:300]}")
        return elapsed, reply.text


GATEWAYS = ("plain", "lua", "python")


def hooks_section(calls: int) -> dict[str, Any]:
    import httpx2 as httpx

    with tempfile.TemporaryDirectory() as tmp, Procs() as procs:
        configs = {
            "plain": _config(tmp, "plain", PLAIN_SCRIPT),
            "lua": _config(tmp, "lua", HOOKS_SCRIPT),
            "python": _config(tmp, "python", PLAIN_SCRIPT, PYTHON_HOOKS),
        }
        urls = {key: procs.gateway("--config", path, cwd=tmp) for key, path in configs.items()}
        times: dict[str, list[float]] = {key: [] for key in GATEWAYS}
        with httpx.Client(timeout=30) as client:
            sessions = {key: _Session(client, url) for key, url in urls.items()}
            for i in range(WARMUP_CALLS + calls):
                for key in GATEWAYS if i % 2 == 0 else reversed(GATEWAYS):
                    elapsed, _ = sessions[key].call(CALL)
                    if i >= WARMUP_CALLS:
                        times[key].append(elapsed)
            _, text = sessions["lua"].call({"name": "bench.fired", "arguments": {}})
        fired = _fired(text)
    medians = {key: statistics.median(times[key]) for key in GATEWAYS}
    return {
        "calls": calls,
        "plain_us": medians["plain"],
        "lua_us": medians["lua"],
        "python_us": medians["python"],
        "lua_ratio": medians["lua"] / medians["plain"],
        "python_ratio": medians["python"] / medians["plain"],
        "hooks_fired": fired,
        "hooks_expected": 5 * (WARMUP_CALLS + calls),
    }


def _fired(text: str) -> int:
    """The counter `bench.fired` returned, from an SSE or a JSON reply."""
    for line in text.splitlines():
        line = line.removeprefix("data: ")
        if line.startswith("{"):
            content = json.loads(line)["result"]["content"]
            return int(content[0]["text"])
    raise RuntimeError(f"no result in {text[:200]!r}")


def print_hooks(report: dict[str, Any]) -> None:
    print(
        f"2. 5 no-op hooks (3 before_tool, 2 after_tool) on `calculator` over MCP Streamable "
        f"HTTP ({report['calls']:,} interleaved calls per gateway)"
    )
    print(f"   without hooks        median {report['plain_us']:8.1f} µs")
    for key, label in (("lua", "5 Lua hooks"), ("python", "5 Python hooks")):
        ratio = report[f"{key}_ratio"]
        added = ratio - 1
        verdict = "PASS" if added <= TARGET_ADDED else "MISS"
        print(
            f"   {label:<20} median {report[f'{key}_us']:8.1f} µs  ratio {ratio:.4f}: "
            f"{added * 100:+.2f}% added (target ≤ {TARGET_ADDED * 100:.0f}%) {verdict}"
        )
    if report["hooks_fired"] != report["hooks_expected"]:
        print(
            f"   WARNING: the Lua hooks ran {report['hooks_fired']} times, "
            f"expected {report['hooks_expected']}"
        )


def run(events: int = 200_000, calls: int = 2000, runs: int = 5) -> int:
    rows = events_section(events, runs)
    print_events(rows, events)
    print()
    report = hooks_section(calls)
    print_hooks(report)
    return 0
