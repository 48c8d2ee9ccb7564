"""Start-up cost of `llmspell run` per engine, and the cost of one Tool.execute round trip.

Wall time and peak RSS come from os.wait4 on each child (its own rusage, not the sum of all
children), taken from a minimal launcher process; the commands are interleaved so drifting
machine load hits each one alike. The children find their bytecode cached, as an installed
wheel has it (pip compiles it): with PYTHONDONTWRITEBYTECODE set, as in this repository's
environment, every run would otherwise compile the checkout's modules again (~2x the time), so
the children get a private PYTHONPYCACHEPREFIX that the dropped warm-up round fills.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from llmspell.adapters.scripts.engine import Limits, engine_factory
from llmspell.adapters.scripts.loader import create_engine
from llmspell.gateway.assembly import Mode, assemble
from llmspell.runtime import Component, Invocation, Result

HELLO = {"lua": 'print("Hello, llmspell!")\n', "js": 'print("Hello, llmspell!");\n'}
TARGETS = {"lua_us": 20.0, "javascript_us": 50.0}
START = {"run hello.lua": 90.0, "run hello.js (QuickJS)": 100.0}
"""Wall-time target (ms) of each measured start; each also has the RSS target."""
RSS_MB = 25.0


@dataclass
class Sample:
    wall_ms: list[float]
    rss_mb: list[float]

    def median(self) -> tuple[float, float]:
        return statistics.median(self.wall_ms), max(self.rss_mb)


# Linux hands a child the parent's peak RSS at exec, so children are started from this tiny
# launcher (python -I -S) rather than from the benchmark process; its own floor is then what
# `python -c pass` shows.
LAUNCHER = r"""
import json, os, subprocess, sys, time
plan = json.load(sys.stdin)
out = {name: [] for name in plan["commands"]}
for _ in range(plan["runs"] + 1):  # the first round warms caches and is dropped
    for name, cmd in plan["commands"].items():
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=plan["cwd"], env=plan["env"], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = (time.perf_counter() - started) * 1000
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()}")
        out[name].append([wall, usage.ru_maxrss / 1024])
json.dump({k: v[1:] for k, v in out.items()}, sys.stdout)
"""


def measure(cmds: dict[str, list[str]], cwd: str, runs: int) -> dict[str, Sample]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(cwd, "pycache"))
    plan = json.dumps({"commands": cmds, "cwd": cwd, "runs": runs, "env": env})
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", LAUNCHER], input=plan, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    data = json.loads(proc.stdout)
    return {name: Sample([w for w, _ in rows], [r for _, r in rows]) for name, rows in data.items()}


def llmspell_command() -> list[str]:
    script = Path(sys.executable).with_name("llmspell")
    if script.exists():
        return [str(script)]
    found = shutil.which("llmspell")
    return [found] if found else [sys.executable, "-m", "llmspell"]


def commands(tmp: str) -> dict[str, list[str]]:
    lua, js = Path(tmp, "hello.lua"), Path(tmp, "hello.js")
    lua.write_text(HELLO["lua"])
    js.write_text(HELLO["js"])
    cli = llmspell_command()
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        # The floor of any asyncio program, `run` included: asyncio imports ssl (OpenSSL).
        "python -c 'import asyncio'": [sys.executable, "-c", "import asyncio"],
        "run hello.lua": [*cli, "run", str(lua)],
        "run hello.js (QuickJS)": [*cli, "run", str(js)],
    }
    try:
        engine_factory("v8")
        cmds["run hello.js --engine v8"] = [*cli, "run", str(js), "--engine", "v8"]
    except ValueError:
        pass
    return cmds


async def round_trip_us(engine: str, calls: int) -> float:
    """Mean µs per `Tool.execute` of a no-op tool, loop included (so an upper bound)."""
    empty = Result([])

    async def noop(inv: Invocation) -> Result:
        return empty

    if engine == "lua":
        src, name = f"for i = 1, {calls} do Tool.execute('noop', {{}}) end", "bench.lua"
    else:
        src, name = (
            f"for (let i = 0; i < {calls}; i++) await Tool.execute('noop', {{}});",
            "bench.js",
        )
    async with assemble(None, Mode.local(builtins=False)) as parts:
        parts.runtime.catalog.register(Component("noop", noop))
        eng, _ = create_engine(
            parts.runtime, name, engine=engine, limits=Limits(timeout=120), stdout=lambda s: None
        )
        await eng.run(src.replace(str(calls), "200"), name)  # warm up
        started = time.perf_counter()
        await eng.run(src, name)
        elapsed = time.perf_counter() - started
        eng.close()
    return elapsed / calls * 1e6


def run(runs: int = 15) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(tmp)
        samples = measure(cmds, tmp, runs)

    base_wall, base_rss = samples["python -c pass"].median()
    print(f"start-up: median wall and peak RSS over {runs} interleaved runs (bytecode cached)")
    head = f"{'command':<28}{'wall ms':>8}{'x python':>9}{'+python':>8}{'RSS MB':>8}{'+python':>8}"
    print(f"{head}  target")
    missed: list[str] = []
    for name, sample in samples.items():
        wall, rss = sample.median()
        row = (
            f"{name:<28}{wall:>8.1f}{wall / base_wall:>9.2f}{wall - base_wall:>+8.1f}"
            f"{rss:>8.1f}{rss - base_rss:>+8.1f}"
        )
        target = START.get(name)
        if target is None:
            print(row)
            continue
        over = wall > target or rss > RSS_MB
        verdict = "MISS" if over else "PASS"
        print(f"{row}  {verdict} (≤ {target:g} ms, ≤ {RSS_MB:g} MB)")
        if over:
            missed.append(f"{name}: {wall:.0f} ms / {rss:.1f} MB (target ≤ {target:g} ms, ≤ 25 MB)")

    calls = 20_000
    print(f"\nTool.execute round trip of a no-op tool ({calls} calls, loop included)")
    engines = ["lua", "javascript"] + (["v8"] if any("v8" in n for n in cmds) else [])
    for engine in engines:
        n = calls if engine != "v8" else 2_000
        us = asyncio.run(round_trip_us(engine, n))
        target = TARGETS.get(f"{engine}_us")
        note = f"(target ≤ {target:g} µs)" if target else "(reported, no target)"
        print(f"{engine:<12}{us:>9.1f} µs/call {note}")
        if target and us > target:
            missed.append(f"{engine} round trip {us:.1f} µs > {target:g} µs")

    print("\ntargets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 0
