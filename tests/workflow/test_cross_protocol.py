"""One workflow across protocols, served by a real `llmspell gateway` and called over MCP: its
steps call a federated MCP tool (the Python peer under `mcpServers`), a remote A2A agent (the
`a2a-sdk` peer under `[a2a_agents]`) and an offline LLM agent that uses the calculator, each
step reading the one before. Declared in the config (`${steps.X.text}` templates) and in a Lua
script (args functions)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
import pytest
from a2a.client import ClientConfig, create_client
from a2a.types import ListTasksRequest, Task, TaskState
from mcp import Client
from mcpserver.conftest import (
    RunningGateway,
    a2a_peer,
    free_port,
    gateway,
    peers,
    py_peer,
)

RELAY_LUA = """
Workflow.sequential{
  name = "lua_relay",
  description = "MCP upstream, then a remote A2A agent, then the assistant (Lua)",
  input_schema = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  steps = {
    {name = "echo", tool = "py.echo", args = function(ctx) return {message = ctx.input.text} end},
    {name = "remote", agent = "peer", args = function(ctx) return ctx.steps.echo.text end},
    {name = "ask", agent = "assistant", args = function(ctx) return {text = ctx.steps.remote.text} end},
  },
  output = function(ctx)
    return ctx.steps.echo.text .. " | " .. ctx.steps.remote.text .. " | " .. ctx.steps.ask.text
  end,
}
"""

CONFIG = """
name = "cross-protocol-test"
scripts = ["relay.lua"]

[mcpServers.py]
url = "{mcp_url}"

[a2a_agents.peer]
url = "{a2a_url}"

[[agents]]
name = "assistant"
model = "offline/demo"
tools = ["calculator"]

[workflows.relay]
description = "MCP upstream, then a remote A2A agent, then the assistant (config)"
input_schema = {{ type = "object", properties = {{ text = {{ type = "string" }} }}, required = ["text"] }}
steps = [
  {{ name = "echo", tool = "py.echo", args = {{ message = "${{input.text}}" }} }},
  {{ name = "remote", agent = "peer", args = "${{steps.echo.text}}" }},
  {{ name = "ask", agent = "assistant", args = "${{steps.remote.text}}" }},
]
output = "${{steps.echo.text}} | ${{steps.remote.text}} | ${{steps.ask.text}}"

[workflows.slow_relay]
description = "As relay, but the remote agent works for 3 s before the last step"
steps = [
  {{ name = "echo", tool = "py.echo", args = {{ message = "start" }} }},
  {{ name = "remote", agent = "peer", args = "slow 3" }},
  {{ name = "after", tool = "py.echo", args = {{ message = "after ${{steps.remote.text}}" }} }},
]
"""
SLOW_SECONDS = 3.0


@dataclass
class Relay:
    gateway: RunningGateway
    agent_url: str
    """The remote A2A agent's own address, to ask it what became of its tasks."""


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    where = tmp_path_factory.mktemp("cross")
    with peers(py_peer(free_port()), a2a_peer(free_port())) as (mcp_peer, agent_peer):
        (where / "relay.lua").write_text(RELAY_LUA, encoding="utf-8")
        config = where / "llmspell.toml"
        a2a_url = f"http://127.0.0.1:{agent_peer.port}"
        config.write_text(CONFIG.format(mcp_url=mcp_peer.url, a2a_url=a2a_url), encoding="utf-8")
        with gateway(config=config, cwd=where) as running:
            yield Relay(running, a2a_url)


def text(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


@pytest.mark.parametrize("name", ["relay", "lua_relay"])
async def test_each_protocol_contributes_its_step(relay: Relay, name: str) -> None:
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with Client(relay.gateway.url) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"relay", "lua_relay", "py.echo", "peer", "assistant"} <= tools, (
            relay.gateway.output()
        )
        result = await client.call_tool(name, {"text": "6 * 7"}, progress_callback=on_progress)
    assert not result.is_error, text(result)
    echo, remote, ask = text(result).split(" | ")
    assert echo == "Echo: 6 * 7"  # the federated MCP tool
    assert remote == "you said: Echo: 6 * 7"  # the remote A2A agent, given the echo
    assert ask == "The answer is 42."  # the offline agent called the calculator on it
    assert seen == ["step 1/3: echo", "step 2/3: remote", "step 3/3: ask"]
    assert result.structured_content is not None
    records: list[dict[str, Any]] = result.structured_content["steps"]
    assert [(r["name"], r["status"]) for r in records] == [
        ("echo", "ok"),
        ("remote", "ok"),
        ("ask", "ok"),
    ]


async def peer_tasks(url: str) -> list[Task]:
    client = await create_client(url, ClientConfig(supported_protocol_bindings=["JSONRPC"]))
    try:
        return list((await client.list_tasks(ListTasksRequest())).tasks)
    finally:
        await client.close()


async def new_task(relay: Relay, before: set[str], state: TaskState | None = None) -> Task:
    """The one task the remote agent got since `before`, once it is there (in `state`)."""
    for _ in range(200):
        new = [t for t in await peer_tasks(relay.agent_url) if t.id not in before]
        assert len(new) <= 1, new
        if new and (state is None or new[0].status.state == state):
            return new[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no new task in state {state} at the remote agent: {new}")


async def calls(client: Client) -> int:
    """How many tool calls the MCP peer has seen, this one included."""
    seen = (await client.call_tool("py.sessions", {})).structured_content
    assert seen is not None
    return int(seen["calls"])


async def test_cancel_over_mcp_cancels_the_remote_task_and_skips_the_last_step(
    relay: Relay,
) -> None:
    before = {t.id for t in await peer_tasks(relay.agent_url)}
    first_step = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        first_step.set()

    async with Client(relay.gateway.url) as client:
        counted = await calls(client)
        started = time.monotonic()
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                await client.call_tool("slow_relay", {}, progress_callback=on_progress)

            tg.start_soon(call)
            with anyio.fail_after(10):
                await first_step.wait()
            await new_task(relay, before)  # the remote agent has the task: cancel now
            tg.cancel_scope.cancel()

        remote = await new_task(relay, before, TaskState.TASK_STATE_CANCELED)
        # Past when the remote work would have finished and the last step run.
        await anyio.sleep(max(0.1, started + SLOW_SECONDS + 0.5 - time.monotonic()))
        remote = await new_task(relay, before)  # still canceled, with no artifact
        # The first step's echo and this count: no call from the `after` step.
        assert await calls(client) == counted + 2
    assert remote.status.state == TaskState.TASK_STATE_CANCELED
    assert not remote.artifacts
