"""`/events` and `llmspell events tail` against a real gateway with API-key auth on: a tool call
made by another MCP client shows up; a caller without credentials is refused."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcpserver.conftest import ROOT, RunningGateway, env, free_port, gateway

KEY = "events-key-0123456789abcdef"
HEADERS = {"X-API-Key": KEY}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Path]]:
    tmp = tmp_path_factory.mktemp("events")
    port = free_port()
    config = tmp / "llmspell.toml"
    config.write_text(
        f"""
name = "events"
[http]
port = {port}
[auth.api_keys.watcher]
key = "{KEY}"
[a2a]
enabled = false
"""
    )
    with gateway("--port", str(port), config=config, cwd=tmp) as running:
        yield running, config


def base(running: RunningGateway) -> str:
    return running.url.removesuffix("/mcp")


async def call_calculator(running: RunningGateway) -> None:
    """Another client: a `tools/call` over MCP Streamable HTTP with its own credentials."""
    async with (
        httpx.AsyncClient(headers=HEADERS) as http,
        Client(streamable_http_client(running.url, http_client=http)) as client,  # type: ignore[arg-type]
    ):
        result = await client.call_tool("calculator", {"expression": "6*7"})
        assert not result.is_error


async def sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, Any]]:
    topic, data = "", ""
    async for line in lines:
        if line.startswith("event: "):
            topic = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif not line and topic:
            yield topic, json.loads(data)
            topic, data = "", ""


async def test_events_stream_shows_a_call_from_another_client(
    secured: tuple[RunningGateway, Path],
) -> None:
    running, _ = secured
    async with (
        httpx.AsyncClient(headers=HEADERS, timeout=20) as http,
        http.stream("GET", f"{base(running)}/events", params={"pattern": "call.*"}) as reply,
    ):
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        lines = reply.aiter_lines()
        assert (await anext(lines)).startswith(": subscribed to call.*")
        await call_calculator(running)
        seen = []
        async for topic, data in sse(lines):
            seen.append((topic, data["component"]))
            if topic == "call.finished" and data["component"] == "calculator":
                assert data["caller"] == "key:watcher" and data["is_error"] is False
                break
    assert ("call.started", "calculator") in seen
    assert all(topic.startswith("call.") for topic, _ in seen)


def test_events_refuses_a_caller_without_credentials(secured: tuple[RunningGateway, Path]) -> None:
    running, _ = secured
    url = f"{base(running)}/events"
    refused = httpx.get(url, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(url, headers={"X-API-Key": "not-the-key-0123456789"}, timeout=10)
    assert wrong.status_code == 401


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))


def _wait_for(lines: queue.Queue[str], wanted: str, timeout: float = 20) -> list[str]:
    deadline, seen = time.monotonic() + timeout, []
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no line with {wanted!r} in {seen}") from None
        seen.append(line)
        if wanted in line:
            return seen


def test_events_tail_shows_a_call_from_another_client(
    secured: tuple[RunningGateway, Path],
) -> None:
    running, config = secured
    # No --url: the address comes from the config, as for the gateway itself.
    command = [sys.executable, "-m", "llmspell", "events", "tail", "--config", str(config)]
    tail = subprocess.Popen(
        [*command, "--pattern", "call.*", "--token", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=ROOT,
    )
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    assert tail.stdout is not None and tail.stderr is not None
    for stream, into in ((tail.stdout, out), (tail.stderr, err)):
        threading.Thread(target=_lines, args=(stream, into), daemon=True).start()
    try:
        _wait_for(err, "watching")
        asyncio.run(call_calculator(running))
        seen = _wait_for(out, "call.finished")
        started, finished = seen[-2].split("  ", 2), seen[-1].split("  ", 2)
        assert started[1] == "call.started" and finished[1] == "call.finished"
        assert json.loads(finished[2])["component"] == "calculator"
        assert len(finished[0]) == len("12:34:56.789")
        tail.send_signal(signal.SIGINT)
        assert tail.wait(10) == 130
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()


def test_events_tail_without_the_token_says_why(secured: tuple[RunningGateway, Path]) -> None:
    running, _ = secured
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell", "events", "tail", "--url", running.url],
        capture_output=True,
        text=True,
        env={**env(), "LLMSPELL_TOKEN": ""},
        cwd=ROOT,
        timeout=30,
    )
    assert proc.returncode == 1
    assert "HTTP 401" in proc.stderr and "--token" in proc.stderr
