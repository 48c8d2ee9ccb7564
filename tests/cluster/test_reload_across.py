"""A reload reaches every replica: two `llmspell serve` replicas read the same config and share
Redis; a tool is added to the config and replica A alone gets SIGHUP; an MCP client connected
to replica B hears `tools/list_changed` on its open session and can call the new tool there."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import mcp_types as types
from mcp import Client
from redis_server import running_redis
from serve.conftest import Inbox, serve, write_config

ADDED = """
Tool.define { name = "added", description = "Added by a reload", handler = function() return "added here" end }
"""


async def test_a_reload_on_one_replica_reaches_the_clients_of_another(tmp_path: Path) -> None:
    with running_redis() as redis:
        shared = f'[cluster]\nredis = "{redis.url}"\n'
        config = write_config(tmp_path, shared, **{"added.lua": ADDED})
        with serve(config) as a, serve(config) as b:
            inbox = Inbox()
            async with Client(b.url, mode="legacy", message_handler=inbox) as client:
                before = {t.name for t in (await client.list_tools()).tools}
                assert "added" not in before
                await asyncio.sleep(0.3)  # the standalone stream is open
                write_config(tmp_path, 'scripts = ["added.lua"]\n' + shared)
                a.process.send_signal(signal.SIGHUP)  # A only
                await inbox.wait_for(types.ToolListChangedNotification)
                await asyncio.to_thread(b.wait_for, "reloaded its config")
                after = {t.name for t in (await client.list_tools()).tools}
                assert after == before | {"added"}
                called = await client.call_tool("added", {})
                assert called.content[0].text == "added here"  # type: ignore[union-attr]
            assert "config reloaded" in a.output() and "rereading" not in a.output()
