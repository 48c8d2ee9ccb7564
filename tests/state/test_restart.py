"""State survives its process: real `llmspell run` and `llmspell gateway` processes, one of them
SIGKILLed while twenty MCP clients write through a script tool."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from processes import stop

ROOT = Path(__file__).resolve().parents[2]
_URL = re.compile(r"serving MCP at (http://\S+/mcp)")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmspell", "run", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


COUNTER = """
local runs = State.update("runs", function(n) return (n or 0) + 1 end)
if runs == 1 then
  State.set("greeting", "héllo ✓")
  State.scope("global"):set("shared", {1, 2, 3})
  State.scope("global"):set("brief", "gone by the next run", {ttl = 0.5})
else
  print(State.get("greeting"), table.concat(State.scope("global"):get("shared"), ","))
  print(State.scope("global"):get("brief") == nil)
end
print("runs", runs)
"""

READER = """
const g = await State.scope("global");
print((await g.get("shared")).join("+"), await State.get("greeting"));
"""


def test_run_with_a_state_file_keeps_keys_for_the_next_process(tmp_path: Path) -> None:
    (tmp_path / "counter.lua").write_text(COUNTER, encoding="utf-8")
    (tmp_path / "reader.js").write_text(READER, encoding="utf-8")
    state = tmp_path / "data" / "state.db"
    first = _run("--state", str(state), "counter.lua", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "runs\t1\n"
    time.sleep(0.6)
    second = _run("--state", str(state), "counter.lua", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout == "héllo ✓\t1,2,3\ntrue\nruns\t2\n"
    # another script (and language) sees the global scope, not counter.lua's own keys
    reader = _run("--state", str(state), "reader.js", cwd=tmp_path)
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout == "1+2+3\tnil\n"
    # without --state, `run` keeps State in memory: nothing carried over, no file made
    plain = _run("counter.lua", cwd=tmp_path)
    assert plain.stdout == "runs\t1\n" and not (tmp_path / ".llmspell").exists()
    # a file that is not a state store stops the run with a message naming it
    (tmp_path / "junk.db").write_bytes(b"junk" * 1000)
    broken = _run("--state", "junk.db", "counter.lua", cwd=tmp_path)
    assert broken.returncode == 1 and "junk.db" in broken.stderr


WRITER = """
Tool.define{
  name = "write",
  input_schema = {type = "object", properties = {client = {type = "integer"}, n = {type = "integer"}},
                  required = {"client", "n"}},
  handler = function(args)
    local key = string.format("c%02d/%05d", args.client, args.n)
    State.scope("global"):set(key, {client = args.client, n = args.n, pad = string.rep("x", 300)})
    local total = State.update("count:" .. args.client, function(v) return (v or 0) + 1 end)
    return {total = total}
  end,
}
Tool.define{
  name = "read",
  handler = function()
    local counts = {}
    for _, key in ipairs(State.keys("count:")) do counts[key] = State.get(key) end
    return {keys = State.scope("global"):keys("c"), counts = counts}
  end,
}
"""


WRITES = 200
"""Acknowledged writes (from all clients) before the SIGKILL."""


@contextlib.contextmanager
def _gateway(config: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    log = config.parent / f"gateway-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llmspell", "gateway", "--config", str(config), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=out,
            env=_env(),
            cwd=config.parent,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := _URL.search(log.read_text(errors="replace"))):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield proc, found.group(1)
    finally:
        stop(proc)


async def test_gateway_killed_mid_write_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    (tmp_path / "writer.lua").write_text(WRITER, encoding="utf-8")
    config = tmp_path / "llmspell.toml"
    config.write_text(
        'builtins = false\nscripts = ["writer.lua"]\n[state]\npath = "data/state.db"\n',
        encoding="utf-8",
    )
    database = tmp_path / "data" / "state.db"
    acked: dict[int, list[int]] = {c: [] for c in range(20)}
    killed, enough = asyncio.Event(), asyncio.Event()
    failures: list[str] = []

    async def client(url: str, number: int) -> None:
        try:
            async with Client(url) as session:
                n = 0
                while not killed.is_set():
                    n += 1
                    result = await session.call_tool("write", {"client": number, "n": n})
                    if result.is_error or result.structured_content != {"total": n}:
                        raise AssertionError(f"write {n}: {result}")
                    acked[number].append(n)
                    if sum(map(len, acked.values())) >= WRITES:
                        enough.set()
        except Exception as exc:  # the kill breaks every session; anything before it is a bug
            if not killed.is_set():
                failures.append(f"client {number}: {exc!r}")

    with _gateway(config) as (proc, url):
        tasks = [asyncio.create_task(client(url, c)) for c in range(20)]
        await asyncio.wait_for(enough.wait(), 60)
        assert all(tasks_alive := [not t.done() for t in tasks]), tasks_alive  # still writing
        proc.kill()  # SIGKILL, mid-way: every client has a call in flight
        proc.wait()
        killed.set()
        _, pending = await asyncio.wait(tasks, timeout=30)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert not failures, failures
    assert all(acked.values()) and sum(map(len, acked.values())) >= WRITES

    with _gateway(config) as (proc, url):  # the same state file, after the crash
        async with Client(url) as session:
            result = await session.call_tool("read", {})
    assert not result.is_error and result.structured_content is not None
    found: dict[str, Any] = result.structured_content
    keys = set(found["keys"])
    for number, ns in acked.items():
        assert {f"c{number:02d}/{n:05d}" for n in ns} <= keys, number
        count = found["counts"][f"count:{number}"]
        assert len(ns) <= count <= len(ns) + 1  # the write in flight may or may not be there

    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
async def test_config_chooses_the_backend(tmp_path: Path, backend: str) -> None:
    from llmspell.adapters.state import SqliteStateStore
    from llmspell.gateway import config as config_module
    from llmspell.gateway.assembly import Mode, assemble
    from llmspell.runtime.observed_state import ObservedState
    from llmspell.runtime.state import MemoryStateStore

    file = tmp_path / "llmspell.toml"
    file.write_text(f'builtins = false\n[state]\nbackend = "{backend}"\npath = "s/x.db"\n')
    config = config_module.load(file)
    async with assemble(config, Mode.serve()) as parts:
        store = parts.runtime.state
        kind = MemoryStateStore if backend == "memory" else SqliteStateStore
        assert isinstance(store, ObservedState) and isinstance(store.store, kind)
        await store.set("global", "k", 1)
    assert (tmp_path / "s" / "x.db").exists() == (backend == "sqlite")
    with pytest.raises(config_module.ConfigError, match="backend"):
        file.write_text('[state]\nbackend = "redis"\n')
        config_module.load(file)
