"""What a script or an agent calls on behalf of a call is a child of that call: the caller's
policy applies to it, it ends by the caller's deadline and is cancelled with it, and a script's
`A2A.send` and `agent:execute` pass the same gate (hooks, observers) as any other call. Real
engines, the real runtime, a real A2A peer on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.scripts.api import ScriptHost
from llmspell.adapters.scripts.engine import Limits, ScriptEngine, engine_factory
from llmspell.adapters.tools import register_builtins
from llmspell.conformance.parity.runner import a2a_peer
from llmspell.gateway.config import PolicyConfig, PolicyRule
from llmspell.gateway.policy import RulePolicy
from llmspell.runtime import (
    Component,
    ErrorCode,
    Identity,
    Invocation,
    LLMSpellError,
    Result,
    Runtime,
)

ENGINES = ["lua", "javascript"]
UNTRUSTED, TRUSTED = Identity("mcp:untrusted"), Identity("mcp:trusted")


def deny_calculator() -> Runtime:
    policy = RulePolicy.of(
        PolicyConfig(
            rules=[PolicyRule(effect="deny", components=["calculator"], subjects=["mcp:untrusted"])]
        )
    )
    runtime = Runtime(policy=policy)
    register_builtins(runtime.catalog)
    return runtime


@pytest.fixture
async def engines() -> AsyncIterator[list[tuple[ScriptEngine, ScriptHost]]]:
    loaded: list[tuple[ScriptEngine, ScriptHost]] = []
    yield loaded
    for engine, host in loaded:
        await host.aclose()
        engine.close()


async def run(
    loaded: list[tuple[ScriptEngine, ScriptHost]],
    runtime: Runtime,
    engine: str,
    source: dict[str, str],
    args: list[str] | None = None,
) -> list[str]:
    out: list[str] = []
    host = ScriptHost(runtime, args=args or [], stdout=out.append, stderr=out.append)
    eng = engine_factory(engine)(host.spec(), Limits(timeout=20))
    loaded.append((eng, host))
    lang = "lua" if engine == "lua" else "js"
    await eng.run(source[lang], f"nested.{lang}")
    return out


WRAPPER = {
    "lua": """
Tool.define{
  name = "wrapper",
  handler = function(args)
    local ok, r = pcall(Tool.execute, "calculator", {expression = "6*7"})
    if ok then return r.text end
    return "refused: " .. tostring(r)
  end,
}
""",
    "js": """
await Tool.define({
  name: "wrapper",
  handler: async (args) => {
    try {
      return (await Tool.execute("calculator", { expression: "6*7" })).text;
    } catch (e) {
      return "refused: " + e.message;
    }
  },
});
""",
}


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_script_tool_calls_as_its_caller(
    engine: str, engines: list[tuple[ScriptEngine, ScriptHost]]
) -> None:
    runtime = deny_calculator()
    await run(engines, runtime, engine, WRAPPER)
    with pytest.raises(LLMSpellError) as info:
        await runtime.pipeline.invoke(
            Invocation("calculator", {"expression": "6*7"}, caller=UNTRUSTED)
        )
    assert info.value.code == ErrorCode.DENIED

    refused = await runtime.pipeline.invoke(Invocation("wrapper", {}, caller=UNTRUSTED))
    assert refused.text.startswith("refused: ") and "[denied]" in refused.text, refused.text
    allowed = await runtime.pipeline.invoke(Invocation("wrapper", {}, caller=TRUSTED))
    assert allowed.text == "42"


ASKER = {
    "lua": """
local agent = Agent.create{name = "helper", model = "offline/demo", tools = {"calculator"}}
Tool.define{name = "ask", handler = function() return agent:execute("What is 6*7?") end}
""",
    "js": """
const agent = await Agent.create({ name: "helper", model: "offline/demo", tools: ["calculator"] });
await Tool.define({ name: "ask", handler: async () => await agent.execute("What is 6*7?") });
""",
}


@pytest.mark.parametrize("engine", ENGINES)
async def test_an_agents_tool_calls_are_its_callers(
    engine: str, engines: list[tuple[ScriptEngine, ScriptHost]]
) -> None:
    runtime = deny_calculator()
    await run(engines, runtime, engine, ASKER)
    # the agent called from a script tool, and the agent called directly
    for name, arguments in (("ask", {}), ("helper", {"text": "What is 6*7?"})):
        denied = await runtime.pipeline.invoke(Invocation(name, arguments, caller=UNTRUSTED))
        call = denied.data["tool_calls"][0]
        assert call["name"] == "calculator" and call["is_error"] is True, call
        assert "[denied]" in call["result"], call
        allowed = await runtime.pipeline.invoke(Invocation(name, arguments, caller=TRUSTED))
        assert allowed.data["tool_calls"][0]["result"] == "42"
        assert allowed.data["text"] == "The answer is 42."


async def test_an_agents_tool_call_is_a_child_of_the_agents_call(
    engines: list[tuple[ScriptEngine, ScriptHost]], tmp_path: Path
) -> None:
    """Same caller, the same deadline, and cancelled with the agent's call."""
    transcript = tmp_path / "probe.json"
    transcript.write_text(json.dumps([{"tool_calls": [{"name": "probe"}]}, {"text": "done"}]))
    runtime = Runtime()
    seen: list[Invocation] = []

    async def probe(inv: Invocation) -> Result:
        seen.append(inv)
        return Result.of("probed")

    runtime.catalog.register(Component("probe", probe))
    source = f'Agent.create{{name = "prober", model = "offline/{transcript}", tools = {{"probe"}}}}'
    await run(engines, runtime, "lua", {"lua": source})
    parent = Invocation.create("prober", {"text": "go"}, timeout=5, caller=TRUSTED)
    result = await runtime.pipeline.invoke(parent)
    assert result.text == "done"
    (child,) = seen
    assert child.caller == TRUSTED and child.deadline == parent.deadline
    assert not child.cancel.cancelled
    parent.cancel.cancel("stop")
    assert child.cancel.cancelled


GATED = {
    "lua": """
local reply = A2A.send(ARGS[1], "hello")
print(reply.state, reply.text)
local agent = Agent.create{name = "helper", model = "offline/demo", tools = {"calculator"}}
print(agent:execute("What is 6*7?").text)
local chunks = {}
local streamed = agent:stream("What is 2+3?", function(c) table.insert(chunks, c) end)
print(streamed.text, table.concat(chunks))
""",
    "js": """
const reply = await A2A.send(ARGS[0], "hello");
print(reply.state, reply.text);
const agent = await Agent.create({ name: "helper", model: "offline/demo", tools: ["calculator"] });
print((await agent.execute("What is 6*7?")).text);
const stream = agent.stream("What is 2+3?");
const chunks = [];
for await (const c of stream) chunks.push(c);
print((await stream.result).text, chunks.join(""));
""",
}


@pytest.mark.parametrize("engine", ENGINES)
async def test_a2a_send_and_agent_execute_pass_the_gate(
    engine: str, engines: list[tuple[ScriptEngine, ScriptHost]]
) -> None:
    from llmspell.protocols.a2a import LazyRemoteAgents

    runtime = Runtime()
    register_builtins(runtime.catalog)
    runtime.a2a = agents = LazyRemoteAgents(runtime)
    hooked: list[tuple[str, str, Any]] = []
    observed: list[tuple[str, str, str]] = []

    async def before(ctx: dict[str, Any]) -> None:
        hooked.append((ctx["component"], ctx["kind"], ctx["arguments"].get("text")))

    runtime.hooks.register("before_agent", before)
    runtime.pipeline.observers.append(
        lambda component, inv, seconds, outcome: observed.append(
            (component.name, component.kind, outcome)
        )
    )
    try:
        async with a2a_peer(True) as url:
            out = await run(engines, runtime, engine, GATED, args=[url])
    finally:
        await agents.aclose()
    assert "".join(out).splitlines() == [
        "completed\tyou said: hello",
        "The answer is 42.",
        "The answer is 5.\tThe answer is 5.",
    ]
    assert hooked == [
        ("peer", "agent", "hello"),
        ("helper", "agent", "What is 6*7?"),
        ("helper", "agent", "What is 2+3?"),
    ]
    assert observed == [
        ("peer", "agent", "ok"),
        ("calculator", "tool", "ok"),
        ("helper", "agent", "ok"),
        ("calculator", "tool", "ok"),
        ("helper", "agent", "ok"),
    ]


async def test_a2a_send_is_refused_by_policy(
    engines: list[tuple[ScriptEngine, ScriptHost]],
) -> None:
    from llmspell.protocols.a2a import LazyRemoteAgents

    policy = RulePolicy.of(PolicyConfig(rules=[PolicyRule(effect="deny", components=["peer"])]))
    runtime = Runtime(policy=policy)
    runtime.a2a = agents = LazyRemoteAgents(runtime)
    source = {"lua": 'print(pcall(A2A.send, ARGS[1], "hello"))'}
    try:
        async with a2a_peer(True) as url:
            out = await run(engines, runtime, "lua", source, args=[url])
    finally:
        await agents.aclose()
    assert "".join(out).startswith("false\t[denied] "), out


SLOW_WRAPPER = {
    "lua": 'Tool.define{name = "wrapper", handler = function() return Tool.execute("slow").text end}',
    "js": 'await Tool.define({ name: "wrapper", handler: async () => (await Tool.execute("slow")).text });',
}


class Slow:
    """A tool that takes 5 s unless stopped: what invocation it got, and when it ended."""

    def __init__(self, runtime: Runtime) -> None:
        self.seen: list[Invocation] = []
        self.started, self.finished = asyncio.Event(), asyncio.Event()
        self.ended = 0.0
        runtime.catalog.register(Component("slow", self.call))

    async def call(self, inv: Invocation) -> Result:
        self.seen.append(inv)
        self.started.set()
        try:
            await asyncio.sleep(5)
        finally:
            self.ended = time.monotonic()
            self.finished.set()
        return Result.of("late")


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_nested_call_ends_by_its_parents_deadline(
    engine: str, engines: list[tuple[ScriptEngine, ScriptHost]]
) -> None:
    runtime = Runtime()
    slow = Slow(runtime)
    await run(engines, runtime, engine, SLOW_WRAPPER)
    parent = Invocation.create("wrapper", timeout=0.3, caller=TRUSTED)
    started = time.monotonic()
    with pytest.raises(LLMSpellError) as info:
        await runtime.pipeline.invoke(parent)
    assert "timed out" in info.value.message
    await asyncio.wait_for(slow.finished.wait(), 2)
    assert slow.ended - started < 0.8, "the nested call outlived its parent's deadline"
    (child,) = slow.seen
    assert child.caller == TRUSTED
    assert child.deadline is not None and parent.deadline is not None
    assert child.deadline <= parent.deadline


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_nested_call_is_cancelled_with_its_parent(
    engine: str, engines: list[tuple[ScriptEngine, ScriptHost]]
) -> None:
    runtime = Runtime()
    slow = Slow(runtime)
    await run(engines, runtime, engine, SLOW_WRAPPER)
    parent = Invocation("wrapper", {})
    call = asyncio.create_task(runtime.pipeline.invoke(parent))
    await asyncio.wait_for(slow.started.wait(), 2)
    (child,) = slow.seen
    assert not child.cancel.cancelled
    cancelled_at = time.monotonic()
    parent.cancel.cancel("stop")
    assert child.cancel.cancelled and child.cancel.reason == "stop"
    with pytest.raises(LLMSpellError) as info:
        await call
    assert "cancelled" in info.value.message
    await asyncio.wait_for(slow.finished.wait(), 2)
    assert slow.ended - cancelled_at < 0.5


async def test_an_agent_stops_when_its_call_is_cancelled(
    engines: list[tuple[ScriptEngine, ScriptHost]], tmp_path: Path
) -> None:
    """A tool call cancelled with the agent's call ends the agent's run, rather than being told
    to the model as a failed tool."""
    transcript = tmp_path / "slow.json"
    transcript.write_text(json.dumps([{"tool_calls": [{"name": "slow"}]}, {"text": "done"}]))
    runtime = Runtime()
    slow = Slow(runtime)
    source = f'Agent.create{{name = "waiter", model = "offline/{transcript}", tools = {{"slow"}}}}'
    await run(engines, runtime, "lua", {"lua": source})
    parent = Invocation("waiter", {"text": "go"})
    call = asyncio.create_task(runtime.pipeline.invoke(parent))
    await asyncio.wait_for(slow.started.wait(), 2)
    parent.cancel.cancel("stop")
    with pytest.raises(LLMSpellError) as info:
        await call
    assert info.value.code == ErrorCode.CANCELLED


CONCURRENT = {
    "lua": """
Tool.define{
  name = "wrapper",
  handler = function(args)
    sleep(0.05)
    local ok, r = pcall(Tool.execute, "calculator", {expression = "6*7"})
    if ok then return r.text end
    return "refused: " .. tostring(r)
  end,
}
""",
    "js": """
await Tool.define({
  name: "wrapper",
  handler: async (args) => {
    await sleep(0.05);
    try {
      return (await Tool.execute("calculator", { expression: "6*7" })).text;
    } catch (e) {
      return "refused: " + e.message;
    }
  },
});
""",
}


@pytest.mark.parametrize("engine", ENGINES)
async def test_concurrent_calls_of_one_script_keep_their_callers(
    engine: str, engines: list[tuple[ScriptEngine, ScriptHost]]
) -> None:
    """Calls in flight together, by callers the policy treats differently, each resume as
    themselves after waiting (a JS engine settles many calls' answers in one batch)."""
    runtime = deny_calculator()
    await run(engines, runtime, engine, CONCURRENT)
    callers = [TRUSTED, UNTRUSTED] * 3
    results = await asyncio.gather(
        *(runtime.pipeline.invoke(Invocation("wrapper", {}, caller=c)) for c in callers)
    )
    assert [r.text.split(" ")[0] for r in results] == ["42", "refused:"] * 3
