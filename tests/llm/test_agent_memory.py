"""Agent memory: a conversation kept in the state store under `memory:NAME`, what is sent to the
model (the window of `memory_turns`), clearing it, concurrent calls, and continuing it from
another runtime and another process, against a local OpenAI-format server."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.llm.agent import Agent, AgentSpec
from llmspell.adapters.scripts.loader import create_engine
from llmspell.adapters.state import SqliteStateStore
from llmspell.adapters.tools import register_builtins
from llmspell.conformance.peers.llm_server import (
    FakeLLM,
    Recorded,
    Reply,
    fake_llm,
    openai_completion,
)
from llmspell.runtime import ErrorCode, LLMSpellError, Runtime
from llmspell.runtime.state import MemoryStateStore


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with fake_llm(echo) as s:
        yield s


def echo(recorded: Recorded) -> Reply:
    """Answers every request with `re: <the last user message>`."""
    users = [m for m in recorded.body["messages"] if m["role"] == "user"]
    return Reply(body=openai_completion(f"re: {users[-1]['content']}"))


@pytest.fixture
async def agents() -> AsyncIterator[list[Agent]]:
    made: list[Agent] = []
    yield made
    for agent in made:
        await agent.aclose()


def make(rt: Runtime, agents: list[Agent], server: FakeLLM, **spec: Any) -> Agent:
    model = {"model": "openai/gpt-test", "base_url": server.url + "/v1"}
    plain = {"name": "helper", "model": model, "memory": "chat", **spec}
    agent = Agent(AgentSpec.from_plain(plain), rt.pipeline, state=rt.state)
    agents.append(agent)
    return agent


def sent(server: FakeLLM, n: int) -> list[tuple[str, Any]]:
    """The n-th request's messages as (role, content)."""
    return [(m["role"], m.get("content")) for m in server.requests[n].body["messages"]]


async def test_the_second_request_carries_the_first_turn(
    server: FakeLLM, agents: list[Agent]
) -> None:
    rt = Runtime()
    agent = make(rt, agents, server, system_prompt="Be brief.")
    assert (await agent.execute("my name is Ada")).text == "re: my name is Ada"
    await agent.execute("what is my name?")
    assert sent(server, 0) == [("system", "Be brief."), ("user", "my name is Ada")]
    assert sent(server, 1) == [
        ("system", "Be brief."),
        ("user", "my name is Ada"),
        ("assistant", "re: my name is Ada"),
        ("user", "what is my name?"),
    ]
    stored = await rt.state.get("memory:chat", "messages")
    assert [(m["role"], m["text"]) for m in stored] == [
        ("user", "my name is Ada"),
        ("assistant", "re: my name is Ada"),
        ("user", "what is my name?"),
        ("assistant", "re: what is my name?"),
    ]  # the system prompt comes from the spec, not the memory


async def test_tool_calls_and_results_are_part_of_the_turn(
    server: FakeLLM, agents: list[Agent], tmp_path: Path
) -> None:
    rt = Runtime()
    register_builtins(rt.catalog, roots=[tmp_path])
    server.queue(
        Reply(body=openai_completion(tool_calls=[("c1", "calculator", {"expression": "6*7"})])),
        Reply(body=openai_completion("It is 42.")),
    )
    agent = make(rt, agents, server, tools=["calculator"])
    await agent.execute("6*7?")
    await agent.execute("and doubled?")
    messages = server.requests[2].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert messages[1]["tool_calls"][0]["id"] == "c1"
    assert messages[2] == {"role": "tool", "tool_call_id": "c1", "content": "42"}
    assert messages[3]["content"] == "It is 42."


async def test_memory_turns_bounds_what_is_sent_and_kept(
    server: FakeLLM, agents: list[Agent]
) -> None:
    rt = Runtime()
    agent = make(rt, agents, server, memory_turns=1)
    for text in ("one", "two", "three"):
        await agent.execute(text)
    assert sent(server, 2) == [("user", "two"), ("assistant", "re: two"), ("user", "three")]
    stored = await rt.state.get("memory:chat", "messages")
    assert [m["text"] for m in stored] == ["three", "re: three"]
    assert AgentSpec.from_plain({"name": "x", "model": "offline/demo"}).memory_turns == 20


async def test_clear_memory_empties_it(server: FakeLLM, agents: list[Agent]) -> None:
    rt = Runtime()
    agent = make(rt, agents, server)
    await agent.execute("remember 7")
    await agent.clear_memory()
    assert await rt.state.keys("memory:chat") == []
    await agent.execute("what did I say?")
    assert sent(server, 1) == [("user", "what did I say?")]


async def test_two_runtimes_on_one_store_continue_one_conversation(
    server: FakeLLM, agents: list[Agent]
) -> None:
    store = MemoryStateStore()
    first, second = Runtime(state=store), Runtime(state=store)
    await make(first, agents, server).execute("my name is Ada")
    await make(second, agents, server).execute("what is my name?")
    assert sent(server, 1) == [
        ("user", "my name is Ada"),
        ("assistant", "re: my name is Ada"),
        ("user", "what is my name?"),
    ]
    other = make(second, agents, server, name="other", memory="elsewhere")
    await other.execute("hello")
    assert sent(server, 2) == [("user", "hello")]  # another name, another conversation


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
async def test_concurrent_calls_keep_every_turn(
    backend: str, server: FakeLLM, agents: list[Agent], tmp_path: Path
) -> None:
    store = MemoryStateStore() if backend == "memory" else SqliteStateStore(tmp_path / "s.db")
    rt = Runtime(state=store)
    agent = make(rt, agents, server)
    await asyncio.gather(*(agent.execute(f"q{i}") for i in range(5)))
    stored = await rt.state.get("memory:chat", "messages")
    users = sorted(m["text"] for m in stored if m["role"] == "user")
    assert users == [f"q{i}" for i in range(5)]
    for i, message in enumerate(stored):  # each turn whole: its answer right after it
        if message["role"] == "user":
            assert stored[i + 1]["text"] == "re: " + message["text"]
    await store.aclose()


async def test_a_failed_turn_is_not_kept(agents: list[Agent]) -> None:
    with fake_llm() as server:
        server.queue(Reply(500, {"error": {"message": "down"}}))
        rt = Runtime()
        model = {"model": "openai/gpt-test", "base_url": server.url + "/v1", "max_retries": 0}
        agent = make(rt, agents, server, model=model)
        with pytest.raises(LLMSpellError):
            await agent.execute("lost")
        assert await rt.state.get("memory:chat", "messages") is None


def test_spec_errors() -> None:
    rt = Runtime()
    for bad in ({"memory": ""}, {"memory": 3}, {"memory": "m", "memory_turns": 0}):
        with pytest.raises(LLMSpellError) as info:
            AgentSpec.from_plain({"name": "x", "model": "offline/demo", **bad})
        assert info.value.code == ErrorCode.INVALID_ARGUMENTS
    spec = AgentSpec.from_plain({"name": "x", "model": "offline/demo", "memory": "m"})
    with pytest.raises(LLMSpellError) as info:
        Agent(spec, rt.pipeline)
    assert info.value.code == ErrorCode.NOT_CONFIGURED


SCRIPTS = {
    "lua": """
local agent = Agent.create{name = "helper", memory = "chat", memory_turns = 5,
  model = {model = "openai/gpt-test", base_url = ARGS[1]}}
print(agent:execute("my name is Ada").text)
print(agent:execute("what is my name?").text)
agent:clear_memory()
local built = Agent.builder():name("again"):memory("chat"):memory_turns(2)
  :model({model = "openai/gpt-test", base_url = ARGS[1]}):build()
print(built:execute("fresh").text)
""",
    "js": """
const model = { model: "openai/gpt-test", base_url: ARGS[0] };
const agent = await Agent.create({ name: "helper", memory: "chat", memory_turns: 5, model });
print((await agent.execute("my name is Ada")).text);
print((await agent.execute("what is my name?")).text);
await agent.clear_memory();
const built = await Agent.builder().name("again").memory("chat").memory_turns(2)
  .model(model).build();
print((await built.execute("fresh")).text);
""",
}


@pytest.mark.parametrize("engine", ["lua", "javascript", "v8"])
async def test_scripts_keep_and_clear_memory(engine: str, server: FakeLLM) -> None:
    out: list[str] = []
    rt = Runtime()
    lang = "lua" if engine == "lua" else "js"
    eng, host = create_engine(
        rt, "mem", engine=engine, args=[server.url + "/v1"], stdout=out.append
    )
    try:
        await eng.run(SCRIPTS[lang], f"mem.{lang}")
    finally:
        await host.aclose()
    assert "".join(out).splitlines() == ["re: my name is Ada", "re: what is my name?", "re: fresh"]
    assert len(sent(server, 1)) == 3
    assert sent(server, 2) == [("user", "fresh")]  # cleared before the third call


async def test_config_agents_take_memory(server: FakeLLM, tmp_path: Path) -> None:
    from llmspell.gateway.assembly import Mode, assemble
    from llmspell.gateway.config import load

    path = tmp_path / "llmspell.toml"
    path.write_text(
        '[[agents]]\nname = "helper"\nmemory = "desk"\nmemory_turns = 3\n'
        f'model = {{model = "openai/gpt-test", base_url = "{server.url}/v1"}}\n',
        encoding="utf-8",
    )
    async with assemble(load(path), Mode.serve()) as parts:
        await parts.runtime.call("helper", {"text": "first"})
        await parts.runtime.call("helper", {"text": "second"})
        assert len(sent(server, 1)) == 3
        assert await parts.runtime.state.keys("memory:desk") == ["messages"]


TWO_PROCESS_LUA = """
local agent = Agent.create{name = "helper", memory = "chat",
  model = {model = "openai/gpt-test", base_url = ARGS[1]}}
print(agent:execute(ARGS[2]).text)
"""


def test_a_second_process_continues_the_conversation(
    server: FakeLLM, tmp_path: Path, llmspell_cmd: list[str], cli_env: dict[str, str]
) -> None:
    script = tmp_path / "chat.lua"
    script.write_text(TWO_PROCESS_LUA, encoding="utf-8")
    db = tmp_path / "state.db"
    for text in ("my name is Ada", "what is my name?"):
        proc = subprocess.run(
            [*llmspell_cmd, "run", "--state", str(db), str(script), "--", server.url + "/v1", text],
            capture_output=True,
            text=True,
            env=cli_env,
            cwd=tmp_path,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"re: {text}"
    assert sent(server, 1) == [
        ("user", "my name is Ada"),
        ("assistant", "re: my name is Ada"),
        ("user", "what is my name?"),
    ]
