"""A remote A2A agent (a plain a2a-sdk server, not llmspell) used as an MCP tool through the
gateway: working updates become progress, input-required becomes elicitation (or a result that
says what was asked), and cancelling the MCP call cancels the A2A task."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any

import mcp_types as types
import pytest
from a2a.client import ClientConfig, create_client
from a2a.types import ListTasksRequest, TaskState
from mcp import Client
from mcpserver.conftest import HttpPeer, RunningGateway, free_port, gateway, peers


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, HttpPeer]]:
    tmp = tmp_path_factory.mktemp("translation")
    port = free_port()
    peer = HttpPeer(
        [sys.executable, "-m", "llmspell.conformance.peers.a2a_agent", str(port)], port, {}
    )
    with peers(peer):
        config = tmp / "llmspell.toml"
        config.write_text(
            f'builtins = false\n[a2a]\ntask_store = "memory"\n'
            f'[a2a_agents.peer]\nurl = "http://127.0.0.1:{port}"\n',
            encoding="utf-8",
        )
        with gateway(config=config, cwd=tmp) as running:
            yield running, peer


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_input_required_becomes_elicitation(setup: tuple[RunningGateway, HttpPeer]) -> None:
    running, _ = setup
    asked: list[str] = []

    async def elicitation(context: Any, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"reply": "Ada"})

    async with Client(running.url, elicitation_callback=elicitation, mode="legacy") as client:
        result = await client.call_tool("peer", {"text": "ask"})
    assert asked == ["What is your name?"]
    assert not result.is_error and text(result) == "hello Ada"


async def test_input_required_without_elicitation_says_what_was_asked(
    setup: tuple[RunningGateway, HttpPeer],
) -> None:
    running, _ = setup
    async with Client(running.url, mode="legacy") as client:
        result = await client.call_tool("peer", {"text": "ask"})
    assert not result.is_error
    assert text(result) == "The agent needs more input: What is your name?"


async def test_working_updates_become_progress(setup: tuple[RunningGateway, HttpPeer]) -> None:
    running, _ = setup
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with Client(running.url) as client:
        result = await client.call_tool("peer", {"text": "slow 0.4"}, progress_callback=on_progress)
    assert text(result) == "slow work done"
    assert seen == ["step 1", "step 2", "step 3", "step 4"]


async def test_mcp_cancel_cancels_the_a2a_task(setup: tuple[RunningGateway, HttpPeer]) -> None:
    running, peer = setup
    async with Client(running.url) as client:
        call = asyncio.create_task(client.call_tool("peer", {"text": "slow 30"}))
        await asyncio.sleep(1.0)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    a2a = await create_client(f"http://127.0.0.1:{peer.port}", ClientConfig(streaming=False))
    try:
        for _ in range(50):
            tasks = (await a2a.list_tasks(ListTasksRequest())).tasks
            slow = [t for t in tasks if t.history and "slow 30" in str(t.history[0])]
            if slow and slow[-1].status.state == TaskState.TASK_STATE_CANCELED:
                break
            await asyncio.sleep(0.1)
    finally:
        await a2a.close()
    assert slow and slow[-1].status.state == TaskState.TASK_STATE_CANCELED
