"""Upstreams that die under a running gateway: SIGKILLed HTTP servers started again on the same
port, and a stdio server that exits. The gateway is never restarted; in-flight calls get a clear
error within their timeout, and the next call succeeds."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

from .conftest import (
    HttpPeer,
    RunningGateway,
    everything_http,
    free_port,
    gateway,
    peers,
    py_peer,
)


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningGateway, HttpPeer, HttpPeer]]:
    tmp = tmp_path_factory.mktemp("restart")
    with peers(everything_http(free_port()), py_peer(free_port())) as (everything, py):
        config = tmp / "llmspell.toml"
        config.write_text(
            f"""
builtins = false
[federation]
startup_wait = 30
[mcpServers.ev]
url = "{everything.url}"
timeout = 6
connect_timeout = 3
[mcpServers.py]
url = "{py.url}"
timeout = 6
connect_timeout = 3
[mcpServers.pys]
command = "{sys.executable}"
args = ["-m", "llmspell.conformance.peers.mcp_server"]
timeout = 6
""",
            encoding="utf-8",
        )
        with gateway(config=config, timeout=60) as running:
            yield running, everything, py


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_http_upstream_killed_and_restarted_on_the_same_port(
    setup: tuple[RunningGateway, HttpPeer, HttpPeer],
) -> None:
    running, everything, _ = setup
    async with Client(running.url) as client:
        assert text(await client.call_tool("ev.echo", {"message": "before"})) == "Echo: before"
        in_flight = asyncio.create_task(
            client.call_tool("ev.trigger-long-running-operation", {"duration": 30, "steps": 30})
        )
        await asyncio.sleep(1.0)
        everything.kill()  # SIGKILL
        started = time.monotonic()
        failed = await asyncio.wait_for(in_flight, 20)
        assert failed.is_error and "'ev'" in text(failed), text(failed)
        assert time.monotonic() - started < 15

        # Down: its calls fail clearly, everything else keeps serving.
        down = await client.call_tool("ev.echo", {"message": "anyone?"})
        assert down.is_error and "unavailable" in text(down), text(down)
        names = {t.name for t in (await client.list_tools()).tools}
        assert "py.echo" in names and "ev.echo" in names  # listed; calls say it is down
        assert text(await client.call_tool("py.echo", {"message": "still"})) == "Echo: still"

        everything.start()
        back = await client.call_tool("ev.echo", {"message": "after"})
        assert not back.is_error and text(back) == "Echo: after", text(back)


async def test_restart_between_calls_reinitializes_the_session(
    setup: tuple[RunningGateway, HttpPeer, HttpPeer],
) -> None:
    """Killed and back before the gateway noticed: the old session id is refused (404 on the
    Python server, 400 on server-everything) and the call is retried on a new session."""
    running, everything, py = setup
    async with Client(running.url) as client:
        for name, peer in (("py", py), ("ev", everything)):
            first = await client.call_tool(f"{name}.echo", {"message": "one"})
            assert not first.is_error, text(first)
            peer.kill()
            peer.start()
            again = await client.call_tool(f"{name}.echo", {"message": "two"})
            assert not again.is_error and text(again) == "Echo: two", text(again)
        # a tool with no idempotent/read-only hint is retried too: the request never ran
        added = await client.call_tool("py.add", {"a": 1, "b": 2})
        assert added.structured_content == {"sum": 3}


async def test_dropped_call_to_a_non_idempotent_tool_is_not_retried(
    setup: tuple[RunningGateway, HttpPeer, HttpPeer],
) -> None:
    running, _, py = setup
    async with Client(running.url) as client:
        in_flight = asyncio.create_task(client.call_tool("py.slow", {"steps": 100, "delay": 0.1}))
        await asyncio.sleep(1.0)
        py.kill()
        failed = await asyncio.wait_for(in_flight, 20)
        py.start()
        assert failed.is_error
        assert "not retried" in text(failed) and "idempotent" in text(failed), text(failed)
        back = await client.call_tool("py.echo", {"message": "back"})
        assert text(back) == "Echo: back", text(back)


async def test_stdio_upstream_that_exits_is_restarted(
    setup: tuple[RunningGateway, HttpPeer, HttpPeer],
) -> None:
    running, _, _ = setup
    async with Client(running.url) as client:
        pid = (await client.call_tool("pys.sessions", {})).structured_content["pid"]  # type: ignore[index]
        in_flight = asyncio.create_task(client.call_tool("pys.slow", {"steps": 100, "delay": 0.1}))
        await asyncio.sleep(0.5)
        crashed = await client.call_tool("pys.crash", {})
        assert crashed.is_error and "'pys'" in text(crashed)
        failed = await asyncio.wait_for(in_flight, 10)
        assert failed.is_error and "lost the connection" in text(failed), text(failed)
        back = await client.call_tool("pys.echo", {"message": "reborn"})
        assert text(back) == "Echo: reborn", text(back)
        new_pid = (await client.call_tool("pys.sessions", {})).structured_content["pid"]  # type: ignore[index]
        assert new_pid != pid


async def test_gateway_log_names_the_lost_upstreams(
    setup: tuple[RunningGateway, HttpPeer, HttpPeer],
) -> None:
    log = setup[0].output()
    assert "upstream pys is down" in log and "upstream ev is down" in log


async def test_ctrl_c_stops_a_gateway_with_live_upstreams(tmp_path: Path) -> None:
    """SIGINT ends asyncio.run by cancelling every task: the upstream supervisors must end with
    it rather than take the cancellation for a lost session and reconnect (which hung it)."""
    with peers(py_peer(free_port())) as (py,):
        config = tmp_path / "llmspell.toml"
        config.write_text(
            f'builtins = false\n[mcpServers.py]\nurl = "{py.url}"\n'
            f'[mcpServers.pys]\ncommand = "{sys.executable}"\n'
            'args = ["-m", "llmspell.conformance.peers.mcp_server"]\n',
            encoding="utf-8",
        )
        with gateway(config=config, timeout=60) as running:
            async with Client(running.url) as client:
                for name in ("py.echo", "pys.echo"):
                    assert text(await client.call_tool(name, {"message": "hi"})) == "Echo: hi"
            running.process.send_signal(signal.SIGINT)
            try:
                code = running.process.wait(15)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running 15 s after SIGINT:\n{running.output()[-2000:]}")
            assert code in (130, -signal.SIGINT), running.output()[-2000:]
