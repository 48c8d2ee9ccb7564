"""Shared by the hardening tests: gateway configs, the gateway's RSS, and the check that a
gateway still serves (a real `calculator` call through the MCP SDK client, and `/healthz`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class Load:
    """What `calculator_load` saw: calls per client, every failure, and (seconds, calls so far,
    server RSS MiB) samples from the end of the warm-up on."""

    calls: list[int]
    errors: list[str] = field(default_factory=list)
    samples: list[tuple[float, int, float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def growth(self) -> float:
        return self.samples[-1][2] - self.samples[0][2]


async def calculator_load(
    url: str,
    pid: int,
    *,
    clients: int,
    seconds: float,
    warm_up: float,
    sample_every: float,
    legacy: Callable[[int], bool],
) -> Load:
    """`clients` SDK clients (`legacy(i)`: on the handshake-era protocol with a session, else the
    2026-07-28 per-request one) call `calculator` in a loop for `seconds`, each result checked;
    the server's RSS is sampled after `warm_up`."""
    load = Load([0] * clients)
    stop = asyncio.Event()

    async def client(index: int) -> None:
        try:
            async with Client(url, mode="legacy" if legacy(index) else "auto") as session:
                while not stop.is_set():
                    n = load.calls[index]
                    expression = f"{index} * {n} + 1"
                    result = await session.call_tool("calculator", {"expression": expression})
                    expected = {"result": index * n + 1, "expression": expression}
                    if result.is_error or result.structured_content != expected:
                        load.errors.append(f"client {index} call {n}: {result}")
                    load.calls[index] += 1
        except Exception as exc:  # every failure counts, whatever it is
            load.errors.append(f"client {index}: {exc!r}")

    started = time.monotonic()
    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await asyncio.sleep(warm_up)
    while (elapsed := time.monotonic() - started) < seconds + 0.5:
        load.samples.append((round(elapsed, 1), sum(load.calls), round(rss_mb(pid), 1)))
        await asyncio.sleep(min(sample_every, max(seconds - elapsed, 0.5)))
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    load.seconds = time.monotonic() - started
    return load
