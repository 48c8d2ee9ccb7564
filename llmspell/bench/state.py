"""State set/get from scripts: `python -m llmspell.bench state [--ops N] [--runs N]`.

A Lua script and a QuickJS script each run a loop of N `State.set` then a loop of N
`State.get` (checking every value), on a `Runtime` whose state store is SQLite (a temp file,
WAL, `synchronous=NORMAL`, as the gateway's) or memory. Each run is a `load_script` timed
from start to end; a script with the set loop alone is timed too, so the figures split into
sets and gets, and an empty script's load is taken off both (engine start-up). Medians of
`--runs` runs after one warm-up; the table gives operations per second and SQLite/memory.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from llmspell.adapters.scripts.loader import load_script
from llmspell.adapters.state.sqlite import SqliteStateStore
from llmspell.runtime import Runtime
from llmspell.runtime.state import MemoryStateStore, StateStore

LUA = {
    "empty": "local n = {n}\n",
    "sets": "local n = {n}\nfor i = 1, n do State.set('k' .. i, i) end\n",
    "both": (
        "local n = {n}\n"
        "for i = 1, n do State.set('k' .. i, i) end\n"
        "for i = 1, n do\n"
        "  if State.get('k' .. i) ~= i then error('k' .. i .. ' read back wrong') end\n"
        "end\n"
    ),
}
JS = {
    "empty": "const n = {n};\n",
    "sets": "const n = {n};\nfor (let i = 1; i <= n; i++) await State.set('k' + i, i);\n",
    "both": (
        "const n = {n};\n"
        "for (let i = 1; i <= n; i++) await State.set('k' + i, i);\n"
        "for (let i = 1; i <= n; i++) {\n"
        "  if ((await State.get('k' + i)) !== i) throw new Error('k' + i + ' read back wrong');\n"
        "}\n"
    ),
}
ENGINES = {"Lua": (".lua", LUA), "QuickJS": (".js", JS)}


async def _load_seconds(runtime: Runtime, path: Path) -> float:
    started = time.perf_counter()
    loaded = await load_script(runtime, str(path))
    seconds = time.perf_counter() - started
    await loaded.aclose()
    loaded.unload()
    return seconds


async def _measure(
    store: StateStore, scripts: dict[str, Path], runs: int
) -> tuple[float, float, float]:
    """Median seconds of (empty, sets, sets + gets) script loads, interleaved per run."""
    runtime = Runtime(state=store)
    for path in scripts.values():  # warm-up: the file, the engine's caches
        await _load_seconds(runtime, path)
    times: dict[str, list[float]] = {name: [] for name in scripts}
    for r in range(runs):
        order = list(scripts) if r % 2 == 0 else list(reversed(scripts))
        for name in order:
            times[name].append(await _load_seconds(runtime, scripts[name]))
    empty, sets, both = (statistics.median(times[n]) for n in ("empty", "sets", "both"))
    return empty, sets, both


Row = tuple[str, str, float, float, float]
"""engine, backend, sets/s, gets/s, set+get ops/s"""


async def _all(ops: int, runs: int, folder: Path) -> list[Row]:
    stores: dict[str, Callable[[], StateStore]] = {
        "SQLite": lambda: SqliteStateStore(folder / "state.db"),
        "memory": MemoryStateStore,
    }
    rows: list[Row] = []
    for engine, (suffix, sources) in ENGINES.items():
        scripts = {}
        for name, source in sources.items():
            path = folder / f"bench_{name}{suffix}"
            path.write_text(source.replace("{n}", str(ops)), encoding="utf-8")
            scripts[name] = path
        for backend, make in stores.items():
            store = make()
            try:
                empty, sets, both = await _measure(store, scripts, runs)
            finally:
                await store.aclose()
            set_s = max(sets - empty, 1e-9)
            get_s = max(both - sets, 1e-9)
            rows.append((engine, backend, ops / set_s, ops / get_s, 2 * ops / (set_s + get_s)))
    return rows


def _fmt(rate: float) -> str:
    return f"{rate:,.0f}"


def print_table(rows: list[Row], ops: int, runs: int) -> None:
    print(f"State from scripts: {ops} sets then {ops} gets per script, median of {runs} runs")
    header = ("engine", "backend", "sets/s", "gets/s", "ops/s", "SQLite/memory")
    memory = {engine: total for engine, backend, _, _, total in rows if backend == "memory"}
    table = [header]
    for engine, backend, sets, gets, total in rows:
        ratio = f"{total / memory[engine]:.2f}" if backend == "SQLite" else "1.00"
        table.append((engine, backend, _fmt(sets), _fmt(gets), _fmt(total), ratio))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
        print("  ".join(cells).rstrip())


def run(ops: int = 5000, runs: int = 5) -> int:
    with tempfile.TemporaryDirectory(prefix="llmspell-bench-state-") as folder:
        rows = asyncio.run(_all(ops, runs, Path(folder)))
    print_table(rows, ops, runs)
    return 0
