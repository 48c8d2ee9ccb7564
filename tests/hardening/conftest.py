"""Shared by the hardening tests: gateway configs, the gateway's RSS, and the check that a
gateway still serves (a real `calculator` call through the MCP SDK client, and `/healthz`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from mcp import Client

FUZZ_CONFIG = """
[http]
max_body = 65536
[a2a]
task_store = "memory"
grpc = false
[[agents]]
name = "echoer"
model = "offline/echo"
"""
"""Built-in tools, one offline agent for A2A, tasks in memory, and a small body cap so oversize
bodies are cheap to send."""


def write_config(directory: Path, text: str) -> Path:
    config = directory / "llmspell.toml"
    config.write_text(text, encoding="utf-8")
    return config


def base_of(mcp_url: str) -> str:
    return mcp_url[: -len("/mcp")]


def rss_mb(pid: int) -> float:
    """Resident set size from /proc (no psutil here), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def calculator_works(url: str) -> None:
    async with Client(url) as client:
        result = await client.call_tool("calculator", {"expression": "6*7"})
    assert not result.is_error, result
    assert result.structured_content == {"result": 42, "expression": "6*7"}


def assert_serving(url: str) -> None:
    """The gateway answers health checks and really runs a tool."""
    health = httpx.get(f"{base_of(url)}/healthz", timeout=10)
    assert health.status_code == 200, health.text
    asyncio.run(calculator_works(url))


@pytest.fixture(params=[1, pytest.param(5, marks=pytest.mark.slow)], ids=["1x", "5x"])
def scale(request: pytest.FixtureRequest) -> int:
    """How many times the default number of cases a property run sends: every run once, and
    five times over as a `slow` variant that --run-slow adds."""
    return int(request.param)
