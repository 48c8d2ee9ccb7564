"""The model override is a context variable: it reaches the agents run in its context, keeps
the agent's own settings where it leaves them unset, and never leaks into a call beside it."""

from __future__ import annotations

import asyncio

from llmspell.adapters.llm.agent import Agent, AgentSpec
from llmspell.adapters.llm.spec import effective_model, overriding_model, parse_model
from llmspell.runtime import Runtime


def agent() -> Agent:
    spec = AgentSpec.from_plain({"name": "a", "model": "offline/demo", "temperature": 0.2})
    return Agent(spec, Runtime().pipeline)


async def test_the_override_reaches_the_agent_and_only_in_its_context() -> None:
    one = agent()

    async def overridden() -> str:
        with overriding_model(parse_model("offline/echo")):
            await asyncio.sleep(0.01)  # the plain call runs meanwhile
            return (await one.execute("hi")).text

    async def plain() -> str:
        return (await one.execute("hi")).text

    echoed, demo = await asyncio.gather(overridden(), plain())
    assert echoed == "echo: hi"
    assert demo == "(offline demo model) You asked: hi"
    assert (await one.execute("hi")).text == demo  # and nothing is left set afterwards
    assert one._provider is not None and one._provider.spec.model == "demo"  # type: ignore[attr-defined]


def test_the_override_keeps_the_agents_settings_it_leaves_unset() -> None:
    configured = parse_model({"provider": "offline", "model": "demo", "temperature": 0.2})
    assert effective_model(configured) is configured
    with overriding_model(parse_model("offline/echo")):
        assert effective_model(configured).label == "offline/echo"
        assert effective_model(configured).temperature == 0.2
    with overriding_model(parse_model({"provider": "offline", "model": "echo", "temperature": 1})):
        assert effective_model(configured).temperature == 1
    assert effective_model(configured) is configured
