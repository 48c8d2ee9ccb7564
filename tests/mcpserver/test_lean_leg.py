"""The lean upstream leg (protocols/mcp/lean.py) through a running gateway: a plain federated
`tools/call` is one POST answered with JSON; a progress token, a caller that can sample, and an
upstream that answers with a stream each take the full path and still give the right result;
a session the upstream forgot is re-initialised and the call retried.

The counters are the upstream's `calls` in `/readyz`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client

from .conftest import HttpPeer, RunningGateway, counters, free_port, gateway, peers, py_peer

JSON_PEER = (
    "import sys, uvicorn\n"
    "from llmspell.conformance.peers.mcp_server import app\n"
    "asgi = app.streamable_http_app(host='127.0.0.1', json_response=True)\n"
    "uvicorn.run(asgi, host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')\n"
)


def json_peer(port: int) -> HttpPeer:
    """The Python test peer with the SDK's JSON response mode (no event streams on POST)."""
    return HttpPeer([sys.executable, "-c", JSON_PEER, str(port)], port, {})


@dataclass
class Setup:
    gateway: RunningGateway
    plain: HttpPeer
    """`pj`: answers every POST with JSON."""
    streams: HttpPeer
    """`ps`: answers with an event stream (the SDK's default)."""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp("lean")
    with peers(json_peer(free_port()), py_peer(free_port())) as (plain, streams):
        config = tmp / "llmspell.toml"
        config.write_text(
            f"""
builtins = false
[federation]
startup_wait = 30
[mcpServers.pj]
url = "{plain.url}"
connect_timeout = 5
[mcpServers.ps]
url = "{streams.url}"
""",
            encoding="utf-8",
        )
        with gateway(config=config, cwd=tmp, timeout=60) as running:
            yield Setup(running, plain, streams)


async def upstream(setup: Setup, name: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        ready = await http.get(setup.gateway.url.replace("/mcp", "/readyz"), timeout=10)
    return next(u for u in ready.json()["upstreams"] if u["name"] == name)


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_a_plain_call_is_one_lean_post(setup: Setup) -> None:
    before = (await upstream(setup, "pj"))["calls"]
    async with Client(setup.gateway.url, mode="legacy") as client:
        echoed = await client.call_tool("pj.echo", {"message": "lean"})
        added = await client.call_tool("pj.add", {"a": 40, "b": 2})
        many = await asyncio.gather(
            *(client.call_tool("pj.echo", {"message": str(i)}) for i in range(10))
        )
        seen = await client.call_tool("pj.sessions", {})
    after = (await upstream(setup, "pj"))["calls"]
    assert text(echoed) == "Echo: lean"
    assert added.structured_content == {"sum": 42}
    assert [text(r) for r in many] == [f"Echo: {i}" for i in range(10)]
    assert seen.structured_content is not None and seen.structured_content["sessions"] == 1
    assert after["lean"] == before["lean"] + 13
    assert after["fallback"] == before["fallback"]
    # /metrics reads the same counts: (leg, reason, upstream)
    legs = await counters(setup.gateway.url, "llmspell_upstream_leg_calls")
    assert legs[("lean", "", "pj")] == after["lean"]
    for why, count in after["fallback_by"].items():
        assert legs[("sdk", why, "pj")] == count


async def test_a_progress_token_takes_the_full_path_and_progress_arrives(setup: Setup) -> None:
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    before = (await upstream(setup, "ps"))["calls"]
    async with Client(setup.gateway.url, mode="legacy") as client:
        done = await client.call_tool(
            "ps.slow", {"steps": 3, "delay": 0.05}, progress_callback=on_progress
        )
    after = (await upstream(setup, "ps"))["calls"]
    assert text(done) == "done after 3 steps"
    assert seen == [1, 2, 3]
    assert after["fallback_by"].get("progress", 0) == before["fallback_by"].get("progress", 0) + 1
    assert after["lean"] == before["lean"]


async def test_a_caller_that_can_sample_takes_the_full_path(setup: Setup) -> None:
    async def sampling(context: Any, params: types.CreateMessageRequestParams) -> Any:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(text="forty-two"), model="downstream"
        )

    before = (await upstream(setup, "ps"))["calls"]
    async with Client(setup.gateway.url, sampling_callback=sampling, mode="legacy") as client:
        answer = await client.call_tool("ps.ask_model", {"prompt": "meaning of life?"})
    after = (await upstream(setup, "ps"))["calls"]
    assert text(answer) == "model said: forty-two"
    assert after["fallback_by"].get("sampling", 0) == before["fallback_by"].get("sampling", 0) + 1


async def test_an_upstream_that_answers_with_a_stream_is_read_on_the_full_path(
    setup: Setup,
) -> None:
    before = (await upstream(setup, "ps"))["calls"]
    async with Client(setup.gateway.url, mode="legacy") as client:
        echoed = await client.call_tool("ps.echo", {"message": "streamed"})
        image = await client.call_tool("ps.image", {})
        # The stream carries the server's sampling request; no caller can answer it.
        refused = await client.call_tool("ps.ask_model", {"prompt": "anyone?"})
    after = (await upstream(setup, "ps"))["calls"]
    assert text(echoed) == "Echo: streamed"
    assert isinstance(image.content[0], types.ImageContent)
    assert refused.is_error and "sampling" in text(refused)
    assert after["fallback_by"]["sse"] == before["fallback_by"].get("sse", 0) + 3
    assert after["lean"] == before["lean"]


async def test_a_forgotten_session_is_reinitialised_and_the_call_retried(setup: Setup) -> None:
    """The upstream ends the session (a DELETE on its id, as an expiry would): the next lean
    POST gets a 404, the supervised Upstream re-initialises, and the call is retried once."""
    from llmspell.protocols.mcp.client import Upstream
    from llmspell.protocols.mcp.spec import parse_spec
    from llmspell.runtime import Invocation

    upstream = Upstream(parse_spec({"name": "pj", "url": setup.plain.url, "timeout": 10}))
    await upstream.start(wait=10)
    try:
        first = await upstream.call_tool("echo", Invocation.create("pj.echo", {"message": "1"}))
        leg = upstream._lean
        assert leg is not None and leg.session_id
        async with httpx.AsyncClient() as http:
            ended = await http.delete(
                setup.plain.url,
                headers={"mcp-session-id": leg.session_id, "mcp-protocol-version": "2025-11-25"},
            )
        assert ended.status_code in (200, 204)
        again = await upstream.call_tool("echo", Invocation.create("pj.echo", {"message": "2"}))
        assert [first.to_plain()["text"], again.to_plain()["text"]] == ["Echo: 1", "Echo: 2"]
        assert upstream.sessions == 2
        assert upstream.calls.lean == 2 and not upstream.calls.fallback
        assert upstream._lean is not None and upstream._lean.session_id != leg.session_id
    finally:
        await upstream.aclose()


def test_the_leg_refuses_what_it_cannot_carry() -> None:
    """The routing rule itself, on real invocations and a real peer object."""
    from llmspell.protocols.mcp.lean import unsuitable
    from llmspell.runtime import Invocation

    class Asks:
        def __init__(self, *features: str) -> None:
            self.features = features

        def supports(self, feature: str) -> bool:
            return feature in self.features

    async def sink(progress: float, total: float | None, message: str | None) -> None:
        return None

    legacy = "2025-11-25"
    assert unsuitable(Invocation.create("t"), None, legacy) is None
    assert unsuitable(Invocation.create("t", progress=sink), None, legacy) == "progress"
    assert unsuitable(Invocation.create("t", peer=Asks("sampling")), None, legacy) == "sampling"
    assert unsuitable(Invocation.create("t"), Asks("elicitation"), legacy) == "elicitation"
    assert unsuitable(Invocation.create("t", peer=Asks("logging")), None, legacy) is None
    assert unsuitable(Invocation.create("t"), None, "2026-07-28") == "version"
