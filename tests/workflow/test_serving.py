"""Workflows served by a real `llmspell gateway`: a Lua script's workflow and a config
`[workflows.NAME]`, as MCP tools (Streamable HTTP and `llmspell mcp stdio`, with the `mcp` SDK's
own client) and as A2A agents (the `a2a-sdk` client): listed, called, progress once per step in
order, and a cancel that stops the steps not yet run."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from typing import Any

import anyio
import mcp_types as types
import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_data_part, new_message, new_text_message
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    Role,
    SendMessageRequest,
    StreamResponse,
    TaskState,
)
from mcp import Client

from .conftest import SLOW_SECONDS, Served, state_value

FLOWS = {
    "lua_flow": ("upper", "exclaim", "count"),
    "config_flow": ("upper", "digest", "sum"),
}
SHA = hashlib.sha256(b"HELLO FLOWS").hexdigest()
ANSWERS = {"lua_flow": "HELLO FLOWS! (24)", "config_flow": f"HELLO FLOWS {SHA} 42"}
BINDINGS = ["JSONRPC", "HTTP+JSON"]


def text(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def expected_progress(name: str) -> list[tuple[float, float | None, str | None]]:
    steps = FLOWS[name]
    return [(float(i), 3.0, f"step {i}/3: {s}") for i, s in enumerate(steps, 1)]


# -- MCP ---------------------------------------------------------------------------------------


async def test_both_workflows_are_listed_as_tools(target: Any) -> None:
    async with Client(target) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"lua_flow", "lua_slow", "config_flow"} <= set(tools)
    assert tools["lua_flow"].description == (
        "Upper-cases a text, exclaims it, and counts its words (Lua)"
    )
    assert tools["config_flow"].input_schema["required"] == ["text"]
    assert tools["lua_slow"].input_schema["required"] == ["key"]


@pytest.mark.parametrize("name", sorted(FLOWS))
async def test_a_workflow_is_called_with_progress_once_per_step_in_order(
    target: Any, name: str
) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with Client(target) as client:
        result = await client.call_tool(
            name, {"text": "hello flows"}, progress_callback=on_progress
        )
    assert not result.is_error, text(result)
    assert text(result) == ANSWERS[name]
    assert result.structured_content is not None
    records = result.structured_content["steps"]
    assert [(r["name"], r["status"]) for r in records] == [(s, "ok") for s in FLOWS[name]]
    assert seen == expected_progress(name)


async def test_a_workflow_called_without_a_progress_token_just_answers(target: Any) -> None:
    async with Client(target) as client:
        result = await client.call_tool("config_flow", {"text": "hello flows"})
        bad = await client.call_tool("lua_flow", {})  # the workflow's schema is checked
    assert text(result) == ANSWERS["config_flow"]
    assert bad.is_error and "text" in text(bad)


async def assert_stopped(client: Client, key: str, started: float) -> None:
    """The run of `lua_slow` under `key` began, its nap stopped part-way when cancelled (its
    tick count no longer moves), and its last step never ran, not even once the nap would have
    ended had it gone on."""
    assert await state_value(client, f"{key}:begin") is True
    await anyio.sleep(0.3)  # let the cancel land, however the transport orders it
    ticks = await state_value(client, f"{key}:ticks")
    assert isinstance(ticks, int) and 1 <= ticks < 20, ticks
    await anyio.sleep(max(0.1, started + SLOW_SECONDS + 0.5 - time.monotonic()))
    assert await state_value(client, f"{key}:ticks") == ticks
    assert await state_value(client, f"{key}:finish") is None


async def test_cancelling_an_mcp_call_stops_the_remaining_steps(target: Any) -> None:
    key = f"mcp-{uuid.uuid4().hex[:8]}"
    seen: list[str | None] = []
    first_step = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)
        first_step.set()

    async with Client(target) as client:
        started = time.monotonic()
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                await client.call_tool("lua_slow", {"key": key}, progress_callback=on_progress)

            tg.start_soon(call)
            with anyio.fail_after(10):
                await first_step.wait()
            await anyio.sleep(0.3)  # a few ticks into the 2 s nap
            tg.cancel_scope.cancel()  # the SDK sends notifications/cancelled

        await assert_stopped(client, key, started)
        # The session still serves, and the same workflow runs to its end when let be.
        finished = await client.call_tool("lua_slow", {"key": f"{key}-b", "ticks": 1})
        assert await state_value(client, f"{key}-b:finish") is True
    assert seen == ["step 1/3: begin"]
    assert not finished.is_error and text(finished) == f"marked {key}-b:finish"


# -- A2A ---------------------------------------------------------------------------------------


async def a2a_client(served: Served, name: str, binding: str) -> Any:
    return await create_client(
        f"{served.base}/a2a/{name}",
        ClientConfig(streaming=True, supported_protocol_bindings=[binding]),
    )


def statuses(events: list[StreamResponse]) -> list[tuple[TaskState, str]]:
    """Each status update's state and its message's text."""
    out: list[tuple[TaskState, str]] = []
    for e in events:
        if e.WhichOneof("payload") == "status_update":
            status = e.status_update.status
            out.append((status.state, "".join(p.text for p in status.message.parts)))
    return out


@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize("name", sorted(FLOWS))
async def test_a2a_streams_one_working_update_per_step_then_the_artifact(
    served: Served, name: str, binding: str
) -> None:
    client = await a2a_client(served, name, binding)
    try:
        request = SendMessageRequest(message=new_text_message("hello flows", role=Role.ROLE_USER))
        events = [e async for e in client.send_message(request)]
        task_id = events[0].task.id
        got = await client.get_task(GetTaskRequest(id=task_id))
    finally:
        await client.close()
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds[0] == "task"
    steps = [f"step {i}/3: {s}" for i, s in enumerate(FLOWS[name], 1)]
    working = TaskState.TASK_STATE_WORKING
    # `working` once when the task starts (no message), then once per finished step, in order.
    assert statuses(events) == [
        (working, ""),
        *[(working, step) for step in steps],
        (TaskState.TASK_STATE_COMPLETED, ""),
    ]
    assert kinds[-2:] == ["artifact_update", "status_update"]
    artifact = events[-2].artifact_update.artifact
    assert artifact.parts[0].text == ANSWERS[name]
    assert got.status.state == TaskState.TASK_STATE_COMPLETED
    assert got.artifacts[0].parts[0].text == ANSWERS[name]


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a2a_streams_each_stream_item_as_an_artifact_chunk(
    served: Served, binding: str
) -> None:
    client = await a2a_client(served, "lua_squares", binding)
    try:
        message = new_message([new_data_part({"n": 4})], role=Role.ROLE_USER)
        events = [e async for e in client.send_message(SendMessageRequest(message=message))]
        got = await client.get_task(GetTaskRequest(id=events[0].task.id))
    finally:
        await client.close()
    chunks = [
        e.artifact_update
        for e in events
        if e.WhichOneof("payload") == "artifact_update"
        and e.artifact_update.artifact.name == "items"
    ]
    assert [c.artifact.parts[0].text for c in chunks] == ["1", "4", "9", "16"]
    assert [c.append for c in chunks] == [False, True, True, True]
    assert got.status.state == TaskState.TASK_STATE_COMPLETED
    items = next(a for a in got.artifacts if a.name == "items")
    assert [p.text for p in items.parts] == ["1", "4", "9", "16"]


async def test_mcp_progress_carries_each_stream_item_result(served: Served) -> None:
    heard: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        heard.append(message)

    async with Client(served.gateway.url) as client:
        result = await client.call_tool("lua_squares", {"n": 3}, progress_callback=on_progress)
    assert not result.is_error
    assert heard == ["item 1: 1", "item 2: 4", "item 3: 9"]


async def test_a2a_cancel_leaves_the_task_canceled_and_stops_the_remaining_steps(
    served: Served,
) -> None:
    key = f"a2a-{uuid.uuid4().hex[:8]}"
    client = await a2a_client(served, "lua_slow", "JSONRPC")
    try:
        started = time.monotonic()
        message = new_message([new_data_part({"key": key})], role=Role.ROLE_USER)
        stream = client.send_message(SendMessageRequest(message=message))
        events = [await anext(stream)]
        async with asyncio.timeout(10):
            while "step 1/3: begin" not in [m for _, m in statuses(events)]:
                events.append(await anext(stream))
        await asyncio.sleep(0.3)  # a few ticks into the 2 s nap
        task_id = events[0].task.id
        cancelled = await client.cancel_task(CancelTaskRequest(id=task_id))
        async with asyncio.timeout(10):
            rest = [e async for e in stream]
        async with Client(served.gateway.url) as mcp:
            await assert_stopped(mcp, key, started)
        got = await client.get_task(GetTaskRequest(id=task_id))
    finally:
        await client.close()
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert rest and rest[-1].status_update.status.state == TaskState.TASK_STATE_CANCELED
    assert got.status.state == TaskState.TASK_STATE_CANCELED
    assert not got.artifacts
    assert [m for _, m in statuses(events + rest) if m.startswith("step")] == ["step 1/3: begin"]
