"""Bad input over raw HTTP gets the precise error, and the gateway keeps serving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
import pytest

from .conftest import RunningGateway, initialize, messages

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


class Raw:
    """POSTs to the gateway's MCP endpoint with one session's headers."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url

    async def post(self, _: str = "", **kwargs: Any) -> httpx.Response:
        return await self.http.post(self.url, **kwargs)

    async def call_tool(self, rid: int, name: str, arguments: dict[str, Any]) -> httpx.Response:
        params = {"name": name, "arguments": arguments}
        return await self.post(
            json={"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}
        )


@pytest.fixture
async def session(http_gateway: RunningGateway) -> AsyncIterator[Raw]:
    """A raw handshake-era session: initialize, then notifications/initialized."""
    async with httpx.AsyncClient(headers=HEADERS) as client:
        http = Raw(client, http_gateway.url)
        init = await http.post("", json=initialize("2025-11-25", client="raw"))
        assert init.status_code == 200
        assert messages(init)[0]["result"]["protocolVersion"] == "2025-11-25"
        client.headers["mcp-session-id"] = init.headers["mcp-session-id"]
        client.headers["mcp-protocol-version"] = "2025-11-25"
        done = await http.post("", json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert done.status_code == 202
        yield http


async def still_serving(http: Raw) -> None:
    listed = await http.post("", json={"jsonrpc": "2.0", "id": 99, "method": "tools/list"})
    assert any(t["name"] == "lua_add" for t in messages(listed)[0]["result"]["tools"])


async def test_malformed_json_is_a_parse_error(session: Raw) -> None:
    response = await session.post("", content=b'{"jsonrpc": "2.0", "id": 2, "method": ')
    assert messages(response)[0]["error"]["code"] == -32700
    await still_serving(session)


async def test_unknown_method_is_method_not_found(session: Raw) -> None:
    response = await session.post("", json={"jsonrpc": "2.0", "id": 3, "method": "tools/nope"})
    reply = messages(response)[0]
    assert reply["id"] == 3
    assert reply["error"]["code"] == -32601
    await still_serving(session)


async def test_unknown_tool_over_the_wire(session: Raw) -> None:
    response = await session.call_tool(4, "js_uper", {})
    error = messages(response)[0]["error"]
    assert error["code"] == -32602
    assert error["message"].startswith("unknown tool 'js_uper'; did you mean 'js_upper'")
    assert error["data"]["suggestions"][0] == "js_upper"
    await still_serving(session)


async def test_oversize_body_is_413(session: Raw) -> None:
    # The test profile caps bodies at 64 KiB.
    response = await session.call_tool(5, "js_upper", {"text": "x" * 70_000})
    assert response.status_code == 413
    await still_serving(session)


async def test_wrong_arguments_name_the_field(session: Raw) -> None:
    response = await session.call_tool(6, "js_upper", {"text": 7})
    result = messages(response)[0]["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"] == (
        "invalid arguments for 'js_upper' at 'text': 7 is not of type 'string'"
    )
    await still_serving(session)


async def test_requests_for_other_hosts_are_refused(http_gateway: RunningGateway) -> None:
    """DNS rebinding protection: a loopback gateway answers only loopback Host names."""
    async with httpx.AsyncClient(headers=HEADERS) as http:
        response = await http.post(
            http_gateway.url,
            headers={"Host": "evil.example", "Origin": "http://evil.example"},
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        )
    assert 400 <= response.status_code < 500
