"""SIGTERM drains a real `llmspell serve` (the call in flight is answered, an open event
stream does not hold the stop, the exit code is 0); SIGHUP rereads the config while an MCP
session stays connected and hears `list_changed`."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import mcp_types as types
import pytest
from mcp import Client

from .conftest import SLOW_TOOL, Inbox, serve, write_config

SECOND_TOOL = 'Tool.define { name = "second", handler = function() return "second here" end }\n'


async def test_sigterm_lets_the_call_in_flight_finish_and_exits_zero(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'scripts = ["slow.lua"]\n', **{"slow.lua": SLOW_TOOL})
    with serve(config, grace=20) as running:
        # Handshake-era session: it also holds the standalone GET event stream open.
        async with Client(running.url, mode="legacy") as client:
            # Listed first: the SDK client lists the tools after a call to a tool it has not
            # seen (to check the output schema), and after SIGTERM nothing new connects.
            assert "slow" in {t.name for t in (await client.list_tools()).tools}
            await asyncio.sleep(0.3)
            call = asyncio.create_task(client.call_tool("slow", {"seconds": 2.5}))
            await asyncio.sleep(0.5)
            stopped = time.monotonic()
            running.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.4)
            with pytest.raises(httpx.ConnectError):  # no new connections
                async with httpx.AsyncClient() as http:
                    await http.get(f"{running.base}/healthz", timeout=2)
            result = await asyncio.wait_for(call, 10)
            code = await asyncio.to_thread(running.process.wait, 15)
            took = time.monotonic() - stopped
        output = running.output()
    assert not result.is_error, result
    assert result.content[0].text == "slept 2.5"  # type: ignore[union-attr]
    assert code == 0, output
    # The call needed about 2 s more; the open GET stream did not hold the stop for the
    # 20 s grace period.
    assert 1.5 < took < 8, (took, output)
    assert "stopping" in output


async def test_sighup_adds_a_tool_to_a_connected_session(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    note = tmp_path / "b" / "note.txt"
    note.write_text("in b", encoding="utf-8")
    config = write_config(
        tmp_path, 'roots = ["a"]\nscripts = ["slow.lua"]\n', **{"slow.lua": SLOW_TOOL}
    )
    (tmp_path / "second.lua").write_text(SECOND_TOOL, encoding="utf-8")
    read = {"operation": "read", "path": str(note)}
    with serve(config) as running:
        inbox = Inbox()
        async with Client(running.url, mode="legacy", message_handler=inbox) as client:
            before = {t.name for t in (await client.list_tools()).tools}
            assert "slow" in before and "second" not in before and "twice" not in before
            assert (await client.call_tool("file-operations", read)).is_error  # outside roots
            await asyncio.sleep(0.3)  # the standalone stream is open
            write_config(
                tmp_path,
                'roots = ["a", "b"]\nscripts = ["slow.lua", "second.lua"]\n\n'
                '[workflows.twice]\nsteps = [\n  { name = "a", tool = "second" },\n'
                '  { name = "b", tool = "second" },\n]\n\n'
                '[[schedule]]\nname = "added"\nevery = "1h"\ntool = "second"\n',
            )
            running.process.send_signal(signal.SIGHUP)
            await inbox.wait_for(types.ToolListChangedNotification)
            await asyncio.to_thread(running.wait_for, "config reloaded")
            after = {t.name for t in (await client.list_tools()).tools}
            assert after == before | {"second", "twice"}
            called = await client.call_tool("second", {})
            assert called.content[0].text == "second here"  # type: ignore[union-attr]
            flow = await client.call_tool("twice", {})
            assert not flow.is_error, flow
            inside = await client.call_tool("file-operations", read)  # the new roots
            assert not inside.is_error, inside
            assert "in b" in str(inside.structured_content or inside.content)
            async with httpx.AsyncClient() as http:
                jobs = (await http.get(f"{running.base}/api/v1/jobs", timeout=5)).json()
            assert [j["name"] for j in jobs] == ["added"]

            # A config that does not parse is reported; the running one stays.
            config.write_text("scripts = [", encoding="utf-8")
            running.process.send_signal(signal.SIGHUP)
            await asyncio.to_thread(running.wait_for, "config not reloaded")
            again = await client.call_tool("second", {})
            assert again.content[0].text == "second here"  # type: ignore[union-attr]
            assert running.process.poll() is None
