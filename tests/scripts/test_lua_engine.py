"""Lua-specific behaviour: marshalling details, user coroutines, bytes."""

from __future__ import annotations

from typing import Any

import pytest
from llmspell.adapters.scripts.api import ScriptHost
from llmspell.adapters.scripts.engine import Limits
from llmspell.adapters.scripts.lua import LuaEngine
from llmspell.runtime import Component, Invocation, Result, Runtime


@pytest.fixture
def runtime() -> Runtime:
    rt = Runtime()
    received: list[Any] = []

    async def echo(inv: Invocation) -> Result:
        received.append(inv.arguments)
        return Result.of(inv.arguments)

    rt.catalog.register(Component("echo", echo))
    rt.received = received  # type: ignore[attr-defined]
    return rt


async def run(rt: Runtime, source: str, args: list[str] | None = None) -> str:
    out: list[str] = []
    host = ScriptHost(rt, args=args or [], stdout=out.append, stderr=out.append)
    await LuaEngine(host.spec(), Limits(timeout=5)).run(source, "t.lua")
    return "".join(out)


async def test_values_marshal_both_ways(runtime: Runtime) -> None:
    out = await run(
        runtime,
        "local r = Tool.execute('echo', {i = 3, f = 2.5, whole = 4.0, s = 'ü', b = true, list = {1, 'two', {3}}, obj = {k = 'v'}})\n"
        "print(math.type(r.data.i), r.data.f, math.type(r.data.whole), r.data.s, r.data.b, #r.data.list, r.data.list[3][1], r.data.obj.k)",
    )
    sent = runtime.received[0]  # type: ignore[attr-defined]
    assert sent == {
        "i": 3,
        "f": 2.5,
        "whole": 4,
        "s": "ü",
        "b": True,
        "list": [1, "two", [3]],
        "obj": {"k": "v"},
    }
    assert type(sent["i"]) is int and type(sent["f"]) is float
    assert out == "integer\t2.5\tinteger\tü\ttrue\t3\t3\tv\n"


async def test_binary_strings_arrive_as_bytes(runtime: Runtime) -> None:
    await run(runtime, "Tool.execute('echo', {raw = '\\xff\\x00\\xfe', text = 'ok'})")
    assert runtime.received[0] == {"raw": b"\xff\x00\xfe", "text": "ok"}  # type: ignore[attr-defined]


async def test_null_in_arrays_keeps_positions(runtime: Runtime) -> None:
    out = await run(
        runtime, "local v = JSON.decode('[1,null,3]') print(#v, v[2] == JSON.null, JSON.encode(v))"
    )
    assert out == "3\ttrue\t[1,null,3]\n"


async def test_tool_calls_inside_user_coroutines(runtime: Runtime) -> None:
    out = await run(
        runtime,
        "local gen = coroutine.wrap(function()\n"
        "  for i = 1, 3 do coroutine.yield(Tool.execute('echo', {n = i}).data.n * 10) end\n"
        "end)\n"
        "print(gen(), gen(), gen())\n"
        "local co = coroutine.create(function(a) local r = Tool.execute('echo', {a = a}) return r.data.a end)\n"
        "print(coroutine.resume(co, 'x'))",
    )
    assert out == "10\t20\t30\ntrue\tx\n"


async def test_args_and_print_formatting(runtime: Runtime) -> None:
    out = await run(
        runtime, "print(#ARGS, ARGS[1], ARGS[2], nil, 1.0, 0.5, {a = 1})", args=["x", "y z"]
    )
    assert out == '2\tx\ty z\tnil\t1\t0.5\t{"a":1}\n'


async def test_python_objects_are_unreachable(runtime: Runtime) -> None:
    out = await run(runtime, "print(python, pcall(function() return Tool.execute.__globals__ end))")
    assert out.startswith("nil\tfalse\t")
