"""The gateway as MCP clients see it, over Streamable HTTP and stdio, with the SDK's own client."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from .conftest import RunningGateway


async def test_lua_and_js_tools_are_listed_and_called(target: Any) -> None:
    async with Client(target) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"lua_add", "js_upper", "echo_agent", "calculator"} <= names
        added = await client.call_tool("lua_add", {"a": 2, "b": 40})
        assert not added.is_error
        assert added.structured_content == {"sum": 42}
        upper = await client.call_tool("js_upper", {"text": "from js"})
        assert [c.text for c in upper.content if isinstance(c, types.TextContent)] == ["FROM JS"]


async def test_tool_listing_keeps_schema_and_description(target: Any) -> None:
    async with Client(target) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    add = tools["lua_add"]
    assert add.description == "Adds two numbers (Lua)"
    assert add.input_schema["required"] == ["a", "b"]
    assert add.input_schema["properties"]["a"] == {"type": "number"}


async def test_agent_is_called_as_a_tool(target: Any) -> None:
    async with Client(target) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "text" in tools["echo_agent"].input_schema["properties"]
        reply = await client.call_tool("echo_agent", {"text": "ship it"})
    assert not reply.is_error
    assert reply.content[0].text == "echo: ship it"  # type: ignore[union-attr]


async def test_progress_arrives_in_order(target: Any) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with Client(target) as client:
        result = await client.call_tool("lua_steps", {"n": 6}, progress_callback=on_progress)
    assert result.content[0].text == "did 6 steps"  # type: ignore[union-attr]
    assert seen == [(float(i), 6.0, f"step {i}") for i in range(1, 7)]


@pytest.mark.parametrize("tool", ["lua_forever", "js_forever"])
async def test_cancelled_call_stops_the_script(target: Any, tool: str) -> None:
    key = f"ticks-{tool}-{id(target)}"
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        started.set()

    async with Client(target) as client:
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                await client.call_tool(tool, {"key": key}, progress_callback=on_progress)

            tg.start_soon(call)
            with anyio.fail_after(10):
                await started.wait()
            await anyio.sleep(0.15)
            tg.cancel_scope.cancel()

        async def ticks() -> int:
            result = await client.call_tool("state_get", {"key": key})
            assert result.structured_content is not None
            return int(result.structured_content["value"])

        first = await ticks()
        await anyio.sleep(0.4)  # the script counted every 20 ms while it ran
        assert first >= 2
        assert await ticks() == first


async def test_ten_concurrent_clients_get_their_own_results(target: Any) -> None:
    async def one(i: int) -> tuple[Any, Any]:
        async with Client(target) as client:
            added = await client.call_tool("lua_add", {"a": i, "b": i * 100})
            upper = await client.call_tool("js_upper", {"text": f"client-{i}"})
            return added.structured_content, upper.content[0].text  # type: ignore[union-attr]

    results = await asyncio.gather(*(one(i) for i in range(10)))
    assert results == [({"sum": i * 101}, f"CLIENT-{i}") for i in range(10)]


async def test_script_error_is_a_tool_error_with_file_and_line(target: Any) -> None:
    async with Client(target) as client:
        result = await client.call_tool("lua_fail", {})
        assert result.is_error
        text = result.content[0].text  # type: ignore[union-attr]
        assert "tools.lua:56:" in text and "attempt to index a nil value" in text
        assert (await client.call_tool("lua_add", {"a": 1, "b": 1})).structured_content == {
            "sum": 2
        }


async def test_schema_violation_names_the_field(target: Any) -> None:
    async with Client(target) as client:
        result = await client.call_tool("lua_add", {"a": 1, "b": "two"})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "'b'" in text and "not of type 'number'" in text


async def test_unknown_tool_is_an_invalid_params_error_with_suggestions(target: Any) -> None:
    async with Client(target) as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("lua_ad", {})
        assert caught.value.error.code == types.INVALID_PARAMS
        assert "unknown tool 'lua_ad'" in caught.value.error.message
        assert "lua_add" in caught.value.error.message
        still = await client.call_tool("lua_add", {"a": 2, "b": 2})
        assert still.structured_content == {"sum": 4}


async def test_sampling_elicitation_and_logging_reach_the_client(
    http_gateway: RunningGateway,
) -> None:
    """Handshake-era sessions (2025-11-25) have a back-channel: the script asks the client's
    model and user mid-call, and its Log calls arrive at the level the client set."""
    asked: list[str] = []
    logs: list[tuple[str, Any]] = []

    async def sampling(ctx: Any, params: types.CreateMessageRequestParams) -> Any:
        asked.append(params.messages[0].content.text)  # type: ignore[union-attr]
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(text="forty-two"), model="client-model"
        )

    async def elicitation(ctx: Any, params: Any) -> types.ElicitResult:
        assert params.requested_schema["required"] == ["name"]
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append((params.level, params.data))

    async with Client(
        http_gateway.url,
        mode="legacy",
        sampling_callback=sampling,
        elicitation_callback=elicitation,
        logging_callback=on_log,
    ) as client:
        asked_reply = await client.call_tool("lua_ask", {"question": "meaning of life?"})
        assert asked_reply.structured_content == {
            "model": "client-model",
            "answer": "forty-two",
            "action": "accept",
            "name": "Ada",
        }
        assert asked == ["meaning of life?"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.set_logging_level("info")
        await client.call_tool("lua_log", {})
    assert logs == [("info", "first"), ("warning", "second")]


async def test_a_client_without_sampling_gets_a_clear_tool_error(
    http_gateway: RunningGateway,
) -> None:
    async with Client(http_gateway.url, mode="legacy") as client:
        result = await client.call_tool("lua_ask", {"question": "?"})
    assert result.is_error
    assert "cannot answer sampling requests" in result.content[0].text  # type: ignore[union-attr]


async def test_modern_requests_opt_in_to_logs_per_request(http_gateway: RunningGateway) -> None:
    logs: list[tuple[str, Any]] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append((params.level, params.data))

    async with Client(http_gateway.url, logging_callback=on_log, log_level="debug") as client:
        await client.call_tool("lua_log", {})
    assert logs == [("debug", "quiet detail"), ("info", "first"), ("warning", "second")]
