"""`before_llm` and `after_llm` around the model call itself, against the local OpenAI-format
server: a hook may rewrite the messages, answer for the model, or rewrite the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from llmspell.adapters.llm.agent import Agent, AgentSpec
from llmspell.conformance.peers.llm_server import (
    FakeLLM,
    Recorded,
    Reply,
    fake_llm,
    openai_completion,
)
from llmspell.runtime import Runtime


def echo(recorded: Recorded) -> Reply:
    users = [m for m in recorded.body["messages"] if m["role"] == "user"]
    return Reply(body=openai_completion(f"re: {users[-1]['content']}"))


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with fake_llm(echo) as s:
        yield s


@pytest.fixture
async def agent(server: FakeLLM) -> AsyncIterator[tuple[Runtime, Agent]]:
    rt = Runtime()
    model = {"model": "openai/gpt-test", "base_url": server.url + "/v1"}
    made = Agent(AgentSpec.from_plain({"name": "helper", "model": model}), rt.pipeline)
    yield rt, made
    await made.aclose()


async def test_before_llm_rewrites_the_messages_the_model_gets(
    agent: tuple[Runtime, Agent], server: FakeLLM
) -> None:
    rt, helper = agent

    async def shout(ctx: dict[str, Any]) -> dict[str, Any]:
        messages = [dict(m, text=m["text"].upper()) for m in ctx["messages"]]
        return {"action": "modify", "messages": messages}

    rt.hooks.register("before_llm", shout, match="helper")
    reply = await helper.execute("hello")
    assert reply.text == "re: HELLO"
    assert server.requests[0].body["messages"][-1]["content"] == "HELLO"


async def test_before_llm_may_answer_for_the_model(
    agent: tuple[Runtime, Agent], server: FakeLLM
) -> None:
    rt, helper = agent

    async def canned(ctx: dict[str, Any]) -> dict[str, Any]:
        return {"action": "replace", "result": {"text": "from the cache"}}

    rt.hooks.register("before_llm", canned)
    assert (await helper.execute("hello")).text == "from the cache"
    assert server.requests == []


async def test_after_llm_sees_usage_and_may_rewrite_the_answer(
    agent: tuple[Runtime, Agent],
) -> None:
    rt, helper = agent
    seen: list[dict[str, Any]] = []

    async def redact(ctx: dict[str, Any]) -> dict[str, Any]:
        seen.append(ctx)
        return {
            "action": "modify",
            "response": {"text": ctx["response"]["text"].replace("hello", "*****")},
        }

    rt.hooks.register("after_llm", redact)
    assert (await helper.execute("hello")).text == "re: *****"
    assert seen[0]["model"] == "openai/gpt-test" and set(seen[0]["usage"]) >= {"input_tokens"}
