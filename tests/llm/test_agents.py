"""Agents: the tool loop through the pipeline, streaming, components, images, and errors as a
script sees them, against the offline model and a local OpenAI-format server."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.llm.agent import Agent, AgentSpec
from llmspell.adapters.scripts.loader import create_engine
from llmspell.adapters.tools import register_builtins
from llmspell.adapters.tools.sandbox.files import Roots
from llmspell.conformance.peers.llm_server import (
    FakeLLM,
    Recorded,
    Reply,
    fake_llm,
    openai_completion,
    openai_stream,
)
from llmspell.runtime import ErrorCode, Invocation, LLMSpellError, Runtime


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with fake_llm() as s:
        yield s


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    runtime = Runtime()
    register_builtins(runtime.catalog, roots=[tmp_path])
    return runtime


@pytest.fixture
async def agents() -> AsyncIterator[list[Agent]]:
    made: list[Agent] = []
    yield made
    for agent in made:
        await agent.aclose()


def make(rt: Runtime, agents: list[Agent], **spec: Any) -> Agent:
    agent = Agent(AgentSpec.from_plain({"name": "a", **spec}), rt.pipeline)
    agents.append(agent)
    return agent


def answer_from_tool(recorded: Recorded) -> Reply:
    """The server's second turn: read the tool result the client sent back and answer with it."""
    tool_msgs = [m for m in recorded.body["messages"] if m["role"] == "tool"]
    return Reply(body=openai_completion(f"The answer is {tool_msgs[-1]['content']}."))


async def test_tool_loop_runs_through_the_pipeline(
    rt: Runtime, agents: list[Agent], server: FakeLLM
) -> None:
    seen: list[dict[str, Any]] = []

    async def hook(ctx: dict[str, Any]) -> None:
        seen.append(ctx["arguments"])

    rt.hooks.register("before_tool", hook, match="calculator")
    server.queue(
        Reply(
            body=openai_completion(tool_calls=[("call_1", "calculator", {"expression": "6 * 7"})])
        ),
        answer_from_tool,
    )
    agent = make(
        rt,
        agents,
        model={"model": "openai/gpt-test", "base_url": server.url + "/v1"},
        tools=["calculator"],
        system_prompt="Use tools.",
    )
    reply = await agent.execute("What is 6 * 7?")
    assert reply.text == "The answer is 42."
    assert reply.tool_calls == [
        {
            "id": "call_1",
            "name": "calculator",
            "arguments": {"expression": "6 * 7"},
            "is_error": False,
            "result": "42",
        }
    ]
    assert reply.usage.total_tokens == 36 and reply.steps == 2
    assert seen == [{"expression": "6 * 7"}]  # the hook saw the model's call
    second = server.requests[1].body["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool"]
    assert second[2]["tool_calls"][0]["function"] == {
        "name": "calculator",
        "arguments": json.dumps({"expression": "6 * 7"}),
    }
    assert second[3] == {"role": "tool", "tool_call_id": "call_1", "content": "42"}


async def test_tool_errors_go_back_to_the_model(
    rt: Runtime, agents: list[Agent], server: FakeLLM
) -> None:
    server.queue(
        Reply(body=openai_completion(tool_calls=[("c1", "calculator", {"expression": "1/0"})])),
        answer_from_tool,
    )
    agent = make(
        rt,
        agents,
        model={"model": "openai/gpt-test", "base_url": server.url + "/v1"},
        tools=["calculator"],
    )
    reply = await agent.execute("1/0?")
    assert reply.tool_calls[0]["is_error"] is True
    assert "division by zero" in server.requests[1].body["messages"][-1]["content"]


async def test_dotted_tool_names_are_mapped_for_the_wire(
    rt: Runtime, agents: list[Agent], server: FakeLLM
) -> None:
    from llmspell.runtime import Component, Result

    async def lookup(inv: Invocation) -> Result:
        return Result.of("found " + inv.arguments["q"])

    rt.catalog.register(
        Component(
            "kb.search",
            lookup,
            input_schema={"type": "object", "properties": {"q": {"type": "string"}}},
        )
    )
    server.queue(
        Reply(body=openai_completion(tool_calls=[("c1", "kb_search", {"q": "llamas"})])),
        answer_from_tool,
    )
    agent = make(
        rt,
        agents,
        model={"model": "openai/gpt-test", "base_url": server.url + "/v1"},
        tools=["kb.search"],
    )
    reply = await agent.execute("find llamas")
    assert server.requests[0].body["tools"][0]["function"]["name"] == "kb_search"
    assert (
        reply.tool_calls[0]["name"] == "kb.search" and reply.text == "The answer is found llamas."
    )


async def test_streaming_chunks_and_step_limit(
    rt: Runtime, agents: list[Agent], server: FakeLLM
) -> None:
    server.queue(Reply(events=openai_stream(["The ", "sky ", "is blue."])))
    agent = make(rt, agents, model={"model": "openai/gpt-test", "base_url": server.url + "/v1"})
    chunks: list[str] = []

    async def sink(c: str) -> None:
        chunks.append(c)

    reply = await agent.execute("sky?", on_chunk=sink)
    assert chunks == ["The ", "sky ", "is blue."] and reply.text == "The sky is blue."

    loop = [
        Reply(body=openai_completion(tool_calls=[(f"c{i}", "calculator", {"expression": "1+1"})]))
        for i in range(2)
    ]
    server.queue(*loop)
    looping = make(
        rt,
        agents,
        model={"model": "openai/gpt-test", "base_url": server.url + "/v1"},
        tools=["calculator"],
        max_steps=2,
    )
    with pytest.raises(LLMSpellError) as info:
        await looping.execute("loop forever")
    assert info.value.message == "agent 'a' (openai/gpt-test) gave no final answer within 2 steps"


async def test_agent_is_a_component_with_progress(rt: Runtime, agents: list[Agent]) -> None:
    agent = make(rt, agents, name="echoer", model="offline/echo")
    rt.catalog.register(agent.component())
    progress: list[tuple[float, str | None]] = []

    async def sink(p: float, total: float | None, message: str | None) -> None:
        progress.append((p, message))

    result = await rt.pipeline.invoke(Invocation("echoer", {"text": "hi there"}, progress=sink))
    assert result.text == "echo: hi there"
    assert result.data["usage"]["total_tokens"] > 0
    assert progress == [(1, "echo: "), (2, "hi "), (3, "there")]
    assert rt.catalog.get("echoer").kind == "agent"
    with pytest.raises(LLMSpellError) as info:
        await rt.call("echoer", {})
    assert info.value.code == ErrorCode.INVALID_ARGUMENTS and info.value.data["field"] == "text"


async def test_unknown_tool_refused_at_build(rt: Runtime) -> None:
    with pytest.raises(LLMSpellError) as info:
        Agent(
            AgentSpec.from_plain({"name": "a", "model": "offline/demo", "tools": ["calculater"]}),
            rt.pipeline,
        )
    assert "did you mean 'calculator'" in info.value.message


async def test_offline_transcript(rt: Runtime, agents: list[Agent], tmp_path: Path) -> None:
    transcript = tmp_path / "t.json"
    transcript.write_text(
        json.dumps(
            [
                {
                    "tool_calls": [
                        {
                            "name": "uuid-generator",
                            "arguments": {"version": 5, "namespace": "dns", "name": "x.org"},
                        }
                    ]
                },
                {"text": "done"},
            ]
        )
    )
    agent = make(rt, agents, model=f"offline/{transcript}", tools=["uuid-generator"])
    reply = await agent.execute("make an id")
    assert reply.text == "done" and reply.tool_calls[0]["result"] == str(
        uuid.uuid5(uuid.NAMESPACE_DNS, "x.org")
    )
    with pytest.raises(LLMSpellError, match="transcript has only 2 turns"):
        await agent.execute("again")


async def test_images_reach_the_provider_through_the_sandbox(
    rt: Runtime, agents: list[Agent], server: FakeLLM, tmp_path: Path
) -> None:
    (tmp_path / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\nDOT")
    roots = Roots.of([tmp_path])

    async def load(path: str) -> bytes:
        return await roots.read_bytes("agent", path)

    server.queue(Reply(body=openai_completion("a dot")))
    agent = Agent(
        AgentSpec.from_plain(
            {"name": "v", "model": {"model": "openai/gpt-test", "base_url": server.url + "/v1"}}
        ),
        rt.pipeline,
        load_image=load,
    )
    agents.append(agent)
    await agent.execute("what is it?", ["dot.png", "https://example.test/x.jpg"])
    parts = server.requests[0].body["messages"][0]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgpET1Q")
    assert parts[2]["image_url"]["url"] == "https://example.test/x.jpg"
    with pytest.raises(LLMSpellError) as info:
        await agent.execute("and this?", ["/etc/hostname"])
    assert info.value.code == ErrorCode.DENIED


SCRIPT_ERRORS = {
    "lua": """
local function try(spec)
  local ok, err = pcall(function()
    local agent = Agent.create(spec)
    return agent:execute{text = "hi"}
  end)
  print(ok, err)
end
try{name = "a1", model = "gpt4"}
try{name = "a2", model = "acme/model-x"}
try{name = "a3", model = "groq/llama-3.1-8b"}
try{name = "a4", model = {model = "openai/gpt-slow", base_url = ARGS[1], timeout = 0.3, max_retries = 0}}
try{name = "a5", model = {model = "openai/gpt-broken", base_url = ARGS[1], max_retries = 0}}
""",
    "js": """
async function attempt(spec) {
  try {
    const agent = await Agent.create(spec);
    await agent.execute({ text: "hi" });
    print(true);
  } catch (e) {
    print(false, e.message);
  }
}
await attempt({ name: "a1", model: "gpt4" });
await attempt({ name: "a2", model: "acme/model-x" });
await attempt({ name: "a3", model: "groq/llama-3.1-8b" });
await attempt({ name: "a4", model: { model: "openai/gpt-slow", base_url: ARGS[0], timeout: 0.3, max_retries: 0 } });
await attempt({ name: "a5", model: { model: "openai/gpt-broken", base_url: ARGS[0], max_retries: 0 } });
""",
}


@pytest.mark.parametrize("engine", ["lua", "javascript", "v8"])
async def test_script_catches_precise_errors(
    engine: str, server: FakeLLM, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    server.queue(
        Reply(body=openai_completion("late"), delay=1.5),
        Reply(500, {"error": {"message": "model crashed"}}),
    )
    out: list[str] = []
    rt = Runtime()
    eng, host = create_engine(
        rt, "errs", engine=engine, args=[server.url + "/v1"], stdout=out.append, stderr=out.append
    )
    try:
        await eng.run(
            SCRIPT_ERRORS["lua" if engine == "lua" else "js"],
            "errs." + ("lua" if engine == "lua" else "js"),
        )
    finally:
        await host.aclose()
    lines = "".join(out).splitlines()
    known = "known providers: anthropic, deepseek, groq, lmstudio, mistral, offline, ollama, openai, openrouter, together, vllm"
    assert lines == [
        f"false\t[invalid_arguments] malformed model specifier 'gpt4': expected 'provider/model'; {known}",
        f"false\t[invalid_arguments] unknown provider 'acme' in acme/model-x; {known}",
        "false\t[not_configured] groq/llama-3.1-8b: no API key; set GROQ_API_KEY in the environment or api_key in the config",
        "false\t[timeout] openai/gpt-slow: no answer within 0.3 s",
        "false\t[provider_error] openai/gpt-broken: model crashed (HTTP 500)",
    ]
