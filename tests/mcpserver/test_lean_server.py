"""The lean downstream leg (protocols/mcp/lean_server.py) against live gateways: which requests
it answers (the counters in `/readyz`), what it leaves to the SDK (progress tokens, clients that
can sample), and that every answer, errors and refusals included, is the one the SDK path gives
(the same requests to a gateway with `LLMSPELL_SERVER_LEAN=0`)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2 as httpx
import mcp_types as types
import pytest
from mcp import Client

from .conftest import PROFILE, ROOT, counters, gateway, initialize, messages

CONFORMANCE = ROOT / "conformance" / "mcp"
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
HANDSHAKE = "2025-11-25"
MAX_BODY = 65536
MODES = ("stateless", "sessions")
CONFIG = f"""
name = "lean-test"
scripts = [{json.dumps(str(PROFILE.parent / "tools.lua"))}]
[http]
max_body = {MAX_BODY}
[policy]
default = "allow"
[[policy.rules]]
effect = "deny"
components = ["uuid-generator"]
"""


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, bool], str]]:
    """(mode, lean) -> MCP URL: stateless and with sessions, the leg on and off."""
    config = tmp_path_factory.mktemp("lean") / "llmspell.toml"
    config.write_text(CONFIG)
    with ExitStack() as stack:
        urls = {}
        for mode in MODES:
            for lean in (True, False):
                args = ("--stateless",) if mode == "stateless" else ()
                switch = {"LLMSPELL_SERVER_LEAN": "1" if lean else "0"}
                running = stack.enter_context(
                    gateway(*args, config=config, cwd=config.parent, extra_env=switch)
                )
                urls[mode, lean] = running.url
        yield urls


def call(rid: int, name: str, arguments: Any, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


def shape(response: httpx.Response) -> dict[str, Any]:
    """What a client sees of a response, less what differs from process to process."""
    kept = ("content-type", "cache-control", "connection", "x-accel-buffering", "allow")
    return {
        "status": response.status_code,
        "headers": {k: response.headers[k] for k in kept if k in response.headers},
        "session": "mcp-session-id" in response.headers,
        "messages": messages(response),
        "events": events(response),
    }


def events(response: httpx.Response) -> list[list[str]]:
    """An event stream's framing: each event's field lines, ids and data only as present."""
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        return []
    framed = []
    for block in response.text.split("\r\n\r\n"):
        if block:
            lines = block.split("\r\n")
            framed.append(
                [
                    f"{line.partition(':')[0]}:" if line.startswith(("id:", "data: {")) else line
                    for line in lines
                ]
            )
    return framed


async def requests(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        ready = await http.get(url.replace("/mcp", "/readyz"), timeout=10)
    counts: dict[str, Any] = ready.json()["mcp_requests"]
    return counts


class Raw:
    """Raw POSTs to one gateway, as a session (initialized, with its headers) or stateless."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url

    async def post(self, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return await self.http.post(self.url, **kwargs)


async def _open(http: httpx.AsyncClient, url: str, mode: str, caps: dict[str, Any]) -> Raw:
    raw = Raw(http, url)
    if mode == "sessions":
        init = await raw.post(
            initialize(HANDSHAKE, request_id=0, client="lean-test", capabilities=caps)
        )
        assert init.status_code == 200, init.text
        http.headers["mcp-session-id"] = init.headers["mcp-session-id"]
        http.headers["mcp-protocol-version"] = HANDSHAKE
        done = await raw.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert done.status_code == 202
        # The server learns the session's connection on its first listing or call (SDK path).
        listed = await raw.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert listed.status_code == 200
    return raw


@pytest.fixture
async def pair(
    gateways: dict[tuple[str, bool], str], request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Raw, Raw]]:
    """The same kind of client against the leg on and off (mode from the test's `mode`)."""
    mode = request.node.callspec.params["mode"]
    async with httpx.AsyncClient(headers=HEADERS) as a, httpx.AsyncClient(headers=HEADERS) as b:
        yield (
            await _open(a, gateways[mode, True], mode, {}),
            await _open(b, gateways[mode, False], mode, {}),
        )


def lean_calls(counts: dict[str, Any]) -> int:
    return int(counts["lean_by"].get("tools/call", 0))


def sdk_calls(counts: dict[str, Any]) -> int:
    return int(counts["sdk_by"].get("tools/call", 0))


# -- which way a call goes ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_a_plain_call_takes_the_lean_leg(
    gateways: dict[tuple[str, bool], str], pair: tuple[Raw, Raw], mode: str
) -> None:
    lean, sdk = pair
    before = await requests(lean.url)
    reply = await lean.post(call(7, "calculator", {"expression": "6*7"}))
    after = await requests(lean.url)
    assert messages(reply)[-1]["result"]["structuredContent"]["result"] == 42
    assert lean_calls(after) == lean_calls(before) + 1
    assert sdk_calls(after) == sdk_calls(before)
    served = await counters(lean.url, "llmspell_mcp_requests")  # (leg, method), as /readyz
    assert served[("lean", "tools/call")] == lean_calls(after)
    # Switched off, the same call goes the SDK's way and reads the same.
    off_before = await requests(sdk.url)
    same = await sdk.post(call(7, "calculator", {"expression": "6*7"}))
    off_after = await requests(sdk.url)
    assert lean_calls(off_after) == 0 and sdk_calls(off_after) == sdk_calls(off_before) + 1
    assert shape(reply) == shape(same)


async def test_a_progress_token_goes_to_the_sdk_and_progress_arrives(
    gateways: dict[tuple[str, bool], str],
) -> None:
    url = gateways["sessions", True]
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with Client(url, mode="legacy") as client:
        await client.list_tools()
        before = await requests(url)
        result = await client.call_tool("lua_steps", {"n": 3}, progress_callback=on_progress)
        after = await requests(url)
    assert not result.is_error
    assert seen == [1, 2, 3]
    assert sdk_calls(after) == sdk_calls(before) + 1
    assert lean_calls(after) == lean_calls(before)


async def test_a_client_that_can_sample_keeps_the_sdk_path_and_its_script_samples(
    gateways: dict[tuple[str, bool], str],
) -> None:
    url = gateways["sessions", True]

    async def sampling(ctx: Any, params: types.CreateMessageRequestParams) -> Any:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(text="forty-two"), model="client-model"
        )

    async def elicitation(ctx: Any, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async with Client(
        url, mode="legacy", sampling_callback=sampling, elicitation_callback=elicitation
    ) as client:
        await client.list_tools()
        before = await requests(url)
        asked = await client.call_tool("lua_ask", {"question": "meaning of life?"})
        plain = await client.call_tool("calculator", {"expression": "1+1"})
        after = await requests(url)
    assert asked.structured_content == {
        "model": "client-model",
        "answer": "forty-two",
        "action": "accept",
        "name": "Ada",
    }
    assert not plain.is_error
    assert sdk_calls(after) == sdk_calls(before) + 2
    assert lean_calls(after) == lean_calls(before)


async def test_logs_of_a_lean_session_call_arrive_before_its_result(
    gateways: dict[tuple[str, bool], str],
) -> None:
    logs: list[tuple[str, Any]] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append((params.level, params.data))

    url = gateways["sessions", True]
    async with Client(url, mode="legacy", logging_callback=on_log) as client:
        await client.list_tools()
        before = await requests(url)
        result = await client.call_tool("lua_log", {})
        after = await requests(url)
    assert result.content[0].text == "logged"  # type: ignore[union-attr]
    assert logs == [("info", "first"), ("warning", "second")]
    assert lean_calls(after) == lean_calls(before) + 1


# -- the same answers either way ------------------------------------------------------------------

CASES = {
    "unknown tool": call(3, "no_such_tool", {}),
    "schema violation": call(4, "calculator", {"expression": 6}),
    "missing name": {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {}},
    "policy denied": call(6, "uuid-generator", {}),
    "script error": call(8, "lua_fail", {}),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", MODES)
async def test_errors_read_the_same_with_the_leg_on_and_off(
    pair: tuple[Raw, Raw], mode: str, case: str
) -> None:
    lean, sdk = pair
    on, off = await lean.post(CASES[case]), await sdk.post(CASES[case])
    assert shape(on) == shape(off)
    assert shape(on)["messages"], on.text
    if case != "script error":
        assert (
            "error" in shape(on)["messages"][-1] or shape(on)["messages"][-1]["result"]["isError"]
        )


@pytest.mark.parametrize("mode", MODES)
async def test_an_oversize_body_and_a_foreign_host_are_refused_alike(
    pair: tuple[Raw, Raw], mode: str
) -> None:
    lean, sdk = pair
    big = call(9, "calculator", {"expression": "1+" * MAX_BODY + "1"})
    refusals = []
    for raw in (lean, sdk):
        oversize = await raw.post(big)
        assert oversize.status_code == 413
        rebinding = await raw.post(
            call(10, "calculator", {"expression": "1"}), headers={"Host": "evil.example"}
        )
        assert rebinding.status_code in (403, 421), rebinding.text
        refusals.append((shape(oversize), shape(rebinding)))
    assert refusals[0] == refusals[1]


@pytest.mark.parametrize("lean", [True, False])
async def test_a_cancelled_session_call_stops_and_is_answered_alike(
    gateways: dict[tuple[str, bool], str], lean: bool
) -> None:
    url = gateways["sessions", lean]
    key = f"lean-cancel-{lean}"
    async with httpx.AsyncClient(headers=HEADERS, timeout=20) as http:
        raw = await _open(http, url, "sessions", {})

        async def ticks() -> int:
            got = await raw.post(call(30, "state_get", {"key": key}))
            value = messages(got)[-1]["result"].get("structuredContent", {}).get("value")
            return int(value or 0)

        before = await requests(url)
        running = asyncio.ensure_future(raw.post(call(31, "lua_forever", {"key": key})))
        for _ in range(200):  # until the script has counted twice
            if await ticks() >= 2:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the script did not start")
        cancel = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": 31, "reason": "test"},
        }
        assert (await raw.post(cancel)).status_code == 202
        async with asyncio.timeout(10):
            answered = await running
        last = messages(answered)[-1]
        assert last["id"] == 31 and last["error"]["code"] == -32800, last
        stopped = await ticks()
        await asyncio.sleep(0.3)  # the script counted every 20 ms while it ran
        assert await ticks() == stopped
        after = await requests(url)
    if lean:  # the call and the state reads all took the leg
        assert sdk_calls(after) == sdk_calls(before)
        assert lean_calls(after) > lean_calls(before) + 2
    else:
        assert lean_calls(after) == 0


async def test_a_rate_limited_call_reads_the_same(tmp_path: Path) -> None:
    config = tmp_path / "llmspell.toml"
    config.write_text(CONFIG + '[limits]\nrate = "2/minute"\n')
    shapes = []
    for lean in (True, False):
        switch = {"LLMSPELL_SERVER_LEAN": "1" if lean else "0"}
        with gateway("--stateless", config=config, cwd=tmp_path, extra_env=switch) as running:
            async with httpx.AsyncClient(headers=HEADERS) as http:
                raw = Raw(http, running.url)
                replies = [
                    await raw.post(call(i, "calculator", {"expression": "1"})) for i in range(3)
                ]
                shapes.append([shape(r) for r in replies])
                counts = await requests(running.url)
            assert lean_calls(counts) == (3 if lean else 0)
    limited = shapes[0][2]["messages"][-1]
    assert "error" in limited or limited["result"]["isError"], limited
    assert shapes[0] == shapes[1]


async def test_a_dropped_lean_stream_resumes_from_the_store(tmp_path: Path) -> None:
    """As tests/cluster/test_resume.py, on a session whose calls take the leg: the client reads
    the first log of the call, drops the connection, and `Last-Event-ID` brings the rest."""
    for name in ("llmspell.toml", "everything.lua"):
        shutil.copy(CONFORMANCE / name, tmp_path / name)
    with gateway(config=tmp_path / "llmspell.toml", cwd=tmp_path) as running:
        async with httpx.AsyncClient(headers=HEADERS, timeout=20) as http:
            raw = await _open(http, running.url, "sessions", {})
            before = await requests(running.url)
            body = call(2, "test_reconnection", {})
            async with http.stream("POST", running.url, json=body) as first:
                event_id, message = None, None
                async for line in first.aiter_lines():
                    if line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("data:") and line[5:].strip():
                        message = json.loads(line[5:])
                        break
            assert message is not None and message["params"]["data"] == "Before disconnect"
            assert event_id
            seen = []
            resumed = {"Last-Event-ID": event_id}
            async with asyncio.timeout(15), http.stream("GET", raw.url, headers=resumed) as rest:
                async for line in rest.aiter_lines():
                    if line.startswith("data:") and line[5:].strip():
                        seen.append(json.loads(line[5:]))
                        if seen[-1].get("id") == 2:
                            break
            after = await requests(running.url)
    logs = [m["params"]["data"] for m in seen if m.get("method") == "notifications/message"]
    assert logs == ["After reconnect"]
    assert seen[-1]["result"]["content"][0]["text"] == "Reconnection test completed"
    assert lean_calls(after) == lean_calls(before) + 1
