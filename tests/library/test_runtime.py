"""`llmspell.Runtime`: selective start-up, calls through the pipeline, scripts, and what a
tools-only runtime imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcpserver.conftest import env

import llmspell

ECHO_AGENT = {"name": "echoer", "model": "offline/echo", "description": "Repeats"}
CONFIG = {"agents": [ECHO_AGENT], "state": {"backend": "memory"}}

TOOLS_ONLY = """
import asyncio, json, resource, sys, time
started = time.perf_counter()
import llmspell
bare = sorted(m for m in ("llmspell.runtime", "llmspell.gateway", "pydantic") if m in sys.modules)

async def main():
    async with llmspell.Runtime.create(tools=TOOLS) as rt:
        result = await rt.call("calculator", {"expression": "2 ** 10 + 1"})
        return result.text, [c["name"] for c in rt.components()]

text, names = asyncio.run(main())
print(json.dumps({
    "bare": bare,
    "text": text,
    "names": names,
    "sdks": sorted(m for m in ("mcp", "a2a", "starlette", "uvicorn") if m in sys.modules),
    "seconds": time.perf_counter() - started,
    "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def run_python(source: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, env=env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_tools_only_runtime_imports_no_protocol_sdk() -> None:
    found = run_python(TOOLS_ONLY.replace("TOOLS", '["calculator"]'))
    assert found["bare"] == []  # `import llmspell` alone imports none of the package
    assert found["text"] == "1025"
    assert found["names"] == ["calculator"]
    assert found["sdks"] == []


def test_tool_selection(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='a list of names, "all" or None'):
        llmspell.Runtime.create(tools="calculator")


async def test_no_tools_and_some_tools() -> None:
    async with llmspell.Runtime.create(tools=None) as rt:
        assert rt.components() == []
        with pytest.raises(llmspell.LLMSpellError) as raised:
            await rt.call("calculator", {"expression": "1"})
        assert raised.value.code == llmspell.ErrorCode.UNKNOWN_COMPONENT
    async with llmspell.Runtime.create(tools=["calculator", "uuid-generator"]) as rt:
        assert sorted(c["name"] for c in rt.components()) == ["calculator", "uuid-generator"]
    async with llmspell.Runtime.create() as rt:
        assert len(rt.components("tool")) > 40  # "all"


async def test_an_unknown_tool_name_names_the_near_ones() -> None:
    rt = llmspell.Runtime.create(tools=["calculater"])
    with pytest.raises(llmspell.LLMSpellError, match="unknown built-in tool 'calculater'; did you"):
        await rt.start()
    assert not rt.started
    with pytest.raises(RuntimeError, match="not started"):
        await rt.call("calculator", {})


async def test_refusals_raise_with_the_pipelines_message() -> None:
    config = {"policy": {"rules": [{"effect": "deny", "components": ["uuid-generator"]}]}}
    rt = await llmspell.Runtime.create(["calculator", "uuid-generator"], config=config).start()
    try:
        with pytest.raises(llmspell.LLMSpellError, match="did you mean 'calculator'"):
            await rt.call("calculatr", {"expression": "1"})
        with pytest.raises(llmspell.LLMSpellError) as denied:
            await rt.call("uuid-generator", {})
        assert denied.value.code == llmspell.ErrorCode.DENIED
        assert denied.value.message == "local may not call tool 'uuid-generator'"
        with pytest.raises(llmspell.LLMSpellError) as invalid:
            await rt.call("calculator", {"expression": 3})
        assert invalid.value.code == llmspell.ErrorCode.INVALID_ARGUMENTS
    finally:
        await rt.aclose()
    await rt.aclose()  # twice is fine


async def test_a_config_dict_and_skipping_its_agents() -> None:
    async with llmspell.Runtime.create(tools=None, config=CONFIG) as rt:
        assert [c["name"] for c in rt.components("agent")] == ["echoer"]
        answer = await rt.call("echoer", {"text": "hello"})
        assert answer.text == "echo: hello"
    async with llmspell.Runtime.create(tools=None, config=CONFIG, agents=False) as rt:
        assert rt.components() == []
    with pytest.raises(llmspell.ConfigError, match=r"agents\.0\.name: Field required"):
        await llmspell.Runtime.create(config={"agents": [{"model": "offline/echo"}]}).start()


async def test_a_config_file_and_state_file(tmp_path: Path) -> None:
    (tmp_path / "llmspell.toml").write_text(
        '[[agents]]\nname = "echoer"\nmodel = "offline/echo"\n', encoding="utf-8"
    )
    state = tmp_path / "state.db"
    async with llmspell.Runtime.create(
        tools=None, config=tmp_path / "llmspell.toml", state=state
    ) as rt:
        assert [c["name"] for c in rt.components()] == ["echoer"]
        await rt.run_script('State.set("visits", 1)')
    async with llmspell.Runtime.create(tools=None, state=state) as rt:
        assert (await rt.run_script('return State.get("visits")')).value == 1


async def test_run_script_returns_output_and_value(tmp_path: Path) -> None:
    script = tmp_path / "flow.lua"
    script.write_text(
        'local sum = Tool.execute("calculator", {expression = "6 * 7"})\n'
        'print("sum", sum.text, ARGS[1])\n'
        "return {answer = sum.data.result}\n",
        encoding="utf-8",
    )
    async with llmspell.Runtime.create(tools=["calculator"]) as rt:
        run = await rt.run_script(script, args=["x"])
        assert run == llmspell.ScriptRun("sum\t42\tx\n", {"answer": 42})
        assert (await rt.run_script(str(script), args=["y"])).output == "sum\t42\ty\n"
        inline = await rt.run_script("print(1 + 1)\nreturn 'done'")
        assert (inline.output, inline.value) == ("2\n", "done")
        js = await rt.run_script("console.log('from js'); 7", engine="javascript")
        assert js.output == "from js\n"


async def test_script_errors_carry_file_and_line(tmp_path: Path) -> None:
    script = tmp_path / "broken.lua"
    script.write_text('local x = 1\n\nerror("it broke")\n', encoding="utf-8")
    async with llmspell.Runtime.create(tools=None) as rt:
        with pytest.raises(llmspell.ScriptError) as raised:
            await rt.run_script(script)
        assert str(raised.value).startswith(f"{script}:3:")
        assert "it broke" in str(raised.value)
        with pytest.raises(llmspell.ScriptError, match=r"^inline\.lua:2: .*nope"):
            await rt.run_script('print("fine")\nerror("nope")')
        with pytest.raises(llmspell.ScriptError, match=r"inline\.lua:1:"):
            await rt.run_script("this is not lua")


async def test_what_a_script_defines_lasts_for_its_run() -> None:
    source = """
Tool.define{name = "twice", description = "2x",
  input_schema = {type = "object", properties = {n = {type = "number"}}},
  handler = function(args) return tostring(args.n * 2) end}
print(Tool.execute("twice", {n = 21}).text)
"""
    async with llmspell.Runtime.create(tools=None) as rt:
        assert (await rt.run_script(source)).output == "42\n"
        assert rt.components() == []
        assert (await rt.run_script(source)).output == "42\n"  # no clash the second time
        with pytest.raises(llmspell.ScriptError):
            await rt.run_script(source + 'error("late")')
        assert rt.components() == []  # gone after a failure too
