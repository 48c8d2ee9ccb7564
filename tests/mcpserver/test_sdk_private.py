"""What llmspell reaches inside the installed MCP SDK (protocols/mcp/sdk_private.py) is still
there: each use runs here against the SDK's own objects, and fails naming what moved."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from llmspell.protocols.mcp import sdk_private
from mcp import Client
from mcp.server import Server
from mcp.server.connection import Connection
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from .conftest import initialize


def test_error_names_the_attribute_and_the_module() -> None:
    with pytest.raises(sdk_private.SdkChanged) as caught:
        sdk_private.session_count(object())  # type: ignore[arg-type]
    message = str(caught.value)
    assert "_server_instances" in message and "protocols/mcp/sdk_private.py" in message


async def test_a_request_context_leads_to_its_connection() -> None:
    found: list[Any] = []

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        try:
            found.append(sdk_private.connection(ctx))
        except sdk_private.SdkChanged as exc:
            found.append(exc)
        return types.ListToolsResult(tools=[])

    server: Server[Any] = Server("probe", on_list_tools=list_tools)
    async with Client(server, mode="legacy") as client:
        await client.list_tools()
    if isinstance(found[0], Exception):
        pytest.fail(str(found[0]))
    assert isinstance(found[0], Connection)


def test_the_session_manager_counts_its_sessions() -> None:
    manager = StreamableHTTPSessionManager(app=Server("probe"))
    try:
        assert sdk_private.session_count(manager) == 0
    except sdk_private.SdkChanged as exc:
        pytest.fail(str(exc))


def test_the_tracing_middleware_is_found_and_dropped() -> None:
    server: Server[Any] = Server("probe")
    before = len(server.middleware)
    try:
        sdk_private.drop_tracing(server)
    except sdk_private.SdkChanged as exc:
        pytest.fail(str(exc))
    assert len(server.middleware) == before - 1, (
        "the MCP SDK no longer installs OpenTelemetryMiddleware by default; "
        "protocols/mcp/sdk_private.py:drop_tracing needs updating for this SDK"
    )


async def test_the_lean_leg_finds_a_live_session_and_its_transport() -> None:
    """What protocols/mcp/lean_server.py reads of a running manager and one live session: its
    lifespan state and run state, the session's transport for its owner, the in-flight count
    that holds its idle countdown, and the streams a resumed GET registers."""
    import httpx2

    manager = StreamableHTTPSessionManager(app=Server("probe"), session_idle_timeout=60)
    try:
        assert sdk_private.running(manager) is False
        async with manager.run():
            assert sdk_private.running(manager) is True
            sdk_private.lifespan_state(manager)  # whatever the lifespan yielded: it is there
            transport = httpx2.ASGITransport(app=manager.handle_request)
            async with httpx2.AsyncClient(transport=transport, base_url="http://x") as http:
                opened = await http.post(
                    "/mcp",
                    json=initialize("2025-06-18", client="probe"),
                    headers={"accept": "application/json, text/event-stream"},
                )
            session_id = opened.headers["mcp-session-id"]
            live = sdk_private.live_transport(manager, session_id, None)
            assert live is not None
            assert sdk_private.live_transport(manager, "no-such-session", None) is None
            idle = live.idle_scope
            assert idle is not None
            with sdk_private.in_flight(live):
                assert idle.deadline == float("inf")  # the countdown holds while served
            assert idle.deadline != float("inf")
            assert sdk_private.resumed_stream(live, "no-such-stream") is None
    except sdk_private.SdkChanged as exc:
        pytest.fail(str(exc))
