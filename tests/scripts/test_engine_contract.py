"""The guarantees every engine gives, checked on each: sandbox, timeout, memory cap, FILE:LINE."""

from __future__ import annotations

import asyncio
import time

import pytest
from llmspell.adapters.scripts.api import ScriptHost
from llmspell.adapters.scripts.engine import Limits, ScriptEngine, ScriptError, engine_factory
from llmspell.runtime import ErrorCode, Runtime

ENGINES = ["lua", "javascript", "v8"]
EXT = {"lua": "lua", "javascript": "js", "v8": "js"}

SNIPPETS: dict[str, dict[str, str]] = {
    "sandbox": {
        "lua": "print(io, os.execute, os.getenv, os.remove, debug, package, require, dofile, loadfile, string.dump)\n"
        "local f, err = load('\\27LuaT\\0'); print(f, err)",
        "js": "print([typeof std, typeof os, typeof require, typeof process, typeof fetch, typeof XMLHttpRequest].join(','))",
    },
    "timeout": {
        "lua": "local x = 1\nwhile true do x = x + 1 end",
        "js": "let x = 1;\nwhile (true) { x++; }",
    },
    "await_timeout": {"lua": "local x = 1\nsleep(10)", "js": "let x = 1;\nawait sleep(10);"},
    "memory": {
        "lua": "local t = {}\nfor i = 1, 1e8 do t[i] = string.rep('x', 64) .. i end",
        "js": "const a = [];\nwhile (true) a.push('x'.repeat(64) + a.length);",
    },
    "syntax": {"lua": "local a = 1\n\nlocal x = = 1", "js": "let a = 1;\n\nlet x = = 1;"},
    "runtime": {"lua": "local a = 1\nerror('boom')", "js": "let a = 1;\nthrow new Error('boom');"},
    "api_error": {
        "lua": "local a = 1\n\nTool.execute('no.such.tool', {})",
        "js": "let a = 1;\n\nawait Tool.execute('no.such.tool', {});",
    },
    "sleep": {"lua": "sleep(0.3) print('slept')", "js": "await sleep(0.3); print('slept');"},
    "long_batch": {
        "lua": "for i = 1, 3 do print(string.rep(tostring(i), 400)) end",
        "js": "for (let i = 1; i <= 3; i++) print(String(i).repeat(400));",
    },
}


def make(engine: str, out: list[str], **limits: float | int | None) -> ScriptEngine:
    host = ScriptHost(Runtime(), stdout=out.append, stderr=out.append)
    return engine_factory(engine)(host.spec(), Limits(**limits))  # type: ignore[arg-type]


async def run(engine: str, snippet: str, **limits: float | int | None) -> str:
    out: list[str] = []
    source = SNIPPETS[snippet]["lua" if engine == "lua" else "js"]
    await make(engine, out, **limits).run(source, f"case.{EXT[engine]}")
    return "".join(out)


@pytest.mark.parametrize("engine", ENGINES)
async def test_sandbox_hides_host_access(engine: str) -> None:
    out = await run(engine, "sandbox")
    if engine == "lua":
        first, second = out.splitlines()
        assert first == "\t".join(["nil"] * 10)
        assert second.startswith("nil\t") and "binary chunk" in second
    else:
        assert out.strip() == ",".join(["undefined"] * 6)


@pytest.mark.parametrize("engine", ENGINES)
async def test_many_host_calls_between_two_awaits_reach_the_host(engine: str) -> None:
    """1,200 characters of queued calls in one batch (QuickJS once returned that batch as a
    string the binding could not read)."""
    out = await run(engine, "long_batch")
    assert out.splitlines() == [str(i) * 400 for i in (1, 2, 3)]


@pytest.mark.parametrize("engine", ENGINES)
async def test_infinite_loop_stops_at_timeout(engine: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptError) as info:
        await run(engine, "timeout", timeout=0.5)
    assert info.value.code == ErrorCode.TIMEOUT
    assert 0.4 < time.monotonic() - started < 3
    # Lua knows the interrupted line; the JS VMs do not report one, so only the file is named.
    where = "case.lua:2" if engine == "lua" else "case.js"
    assert str(info.value) == f"{where}: script timed out after 0.5 s"


@pytest.mark.parametrize("engine", ENGINES)
async def test_await_is_bounded_by_timeout(engine: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptError) as info:
        await run(engine, "await_timeout", timeout=0.3)
    assert info.value.code == ErrorCode.TIMEOUT
    assert time.monotonic() - started < 2
    assert f"case.{EXT[engine]}:2:" in str(info.value)


@pytest.mark.parametrize("engine", ENGINES)
async def test_memory_cap(engine: str) -> None:
    with pytest.raises(ScriptError) as info:
        await run(engine, "memory", memory=32 * 1024 * 1024, timeout=20)
    assert info.value.code == ErrorCode.MEMORY_LIMIT
    assert "32 MB memory limit" in str(info.value)


@pytest.mark.parametrize("engine", ENGINES)
async def test_syntax_error_has_file_and_line(engine: str) -> None:
    with pytest.raises(ScriptError) as info:
        await run(engine, "syntax")
    assert str(info.value).startswith(f"case.{EXT[engine]}:3: ")
    assert info.value.line == 3


@pytest.mark.parametrize("engine", ENGINES)
async def test_runtime_error_has_file_and_line(engine: str) -> None:
    with pytest.raises(ScriptError) as info:
        await run(engine, "runtime")
    expected = "boom" if engine == "lua" else "Error: boom"
    assert str(info.value) == f"case.{EXT[engine]}:2: {expected}"


@pytest.mark.parametrize("engine", ENGINES)
async def test_uncaught_api_error_has_file_line_and_code(engine: str) -> None:
    with pytest.raises(ScriptError) as info:
        await run(engine, "api_error")
    text = str(info.value)
    assert text.startswith(f"case.{EXT[engine]}:3: ")
    assert "[unknown_component]" in text and "no.such.tool" in text


@pytest.mark.parametrize("engine", ENGINES)
async def test_sleep_does_not_block_the_loop(engine: str) -> None:
    started = time.monotonic()
    outs = await asyncio.gather(*(run(engine, "sleep") for _ in range(3)))
    assert outs == ["slept\n"] * 3
    assert time.monotonic() - started < 0.8  # three 0.3 s sleeps overlapped


@pytest.mark.parametrize("engine", ENGINES)
async def test_host_calls_finish_in_the_task_they_started_in(engine: str) -> None:
    """A tool that enters task-bound scopes (anyio, as httpx does) and then really waits must
    work from every engine: a half-run coroutine must never move to another task."""
    import anyio
    from llmspell.runtime import Component, Invocation, Result

    async def scoped(inv: Invocation) -> Result:
        with anyio.CancelScope():
            await asyncio.sleep(0.001)
        return Result.of("scoped ok")

    runtime = Runtime()
    runtime.catalog.register(Component("scoped", scoped))
    out: list[str] = []
    host = ScriptHost(runtime, stdout=out.append, stderr=out.append)
    source = (
        "for i = 1, 3 do print(Tool.execute('scoped', {}).text) end"
        if engine == "lua"
        else "for (let i = 0; i < 3; i++) print((await Tool.execute('scoped', {})).text);"
    )
    await engine_factory(engine)(host.spec(), Limits()).run(source, f"case.{EXT[engine]}")
    assert "".join(out) == "scoped ok\n" * 3
