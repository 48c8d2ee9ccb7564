"""Two gateway replicas sharing Redis (`[cluster] redis`): one rate limit for both, each lists
the other in `/readyz`, and losing Redis does not stop either from serving.

The limit is 50 calls per 10 s for the caller; a burst of ten times that is spread over both
replicas. Per-replica buckets would let about 100 through; the shared one lets through its 50
plus what leaked during the burst (5 a second), within 5%."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcpserver.conftest import RunningGateway, gateway
from redis_server import RedisServer, running_redis

MODERN = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": MODERN,
    "Mcp-Method": "tools/call",
    "Mcp-Name": "calculator",
}
CAPACITY, PERIOD = 50, 10.0
BURST = 10 * CAPACITY


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def config(tmp: Path, redis: RedisServer, name: str) -> Path:
    folder = tmp / name
    folder.mkdir()
    path = folder / "llmspell.toml"
    path.write_text(
        f"""
[a2a]
enabled = false
[limits]
rate = "{CAPACITY}/{PERIOD:g} seconds"
[cluster]
redis = "{redis.url}"
replica = "{name}"
"""
    )
    return path


async def call(http: httpx.AsyncClient, url: str, n: int) -> bool:
    body = {
        "jsonrpc": "2.0",
        "id": n,
        "method": "tools/call",
        "params": {"name": "calculator", "arguments": {"expression": f"{n} + 1"}, "_meta": META},
    }
    reply = await http.post(url, json=body, headers=HEADERS)
    text = reply.text
    if '"result"' in text and f'"result":{n + 1}' in text.replace(" ", ""):
        return True
    assert "rate of 50 calls per 10 s (all replicas)" in text, text
    return False


async def readyz(replica: RunningGateway) -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(replica.url.removesuffix("/mcp") + "/readyz")).json()


async def burst(replicas: list[RunningGateway]) -> tuple[int, float]:
    """BURST calls, alternating replicas, 25 at a time; returns (allowed, seconds taken)."""
    gate = asyncio.Semaphore(25)
    async with httpx.AsyncClient(timeout=30) as http:

        async def one(n: int) -> bool:
            async with gate:
                return await call(http, replicas[n % 2].url, n)

        started = time.monotonic()
        allowed = sum(await asyncio.gather(*(one(n) for n in range(BURST))))
        return allowed, time.monotonic() - started


async def test_two_replicas_share_one_limit(tmp_path: Path, redis: RedisServer) -> None:
    with (
        gateway(config=config(tmp_path, redis, "a"), cwd=tmp_path) as a,
        gateway(config=config(tmp_path, redis, "b"), cwd=tmp_path) as b,
    ):
        ready = await readyz(a)
        assert ready["replica"] == "a"
        assert [p["replica"] for p in ready["peers"]] == ["a", "b"]
        assert ready["peers"][1]["url"] == b.url

        allowed, took = await burst([a, b])
        leaked = CAPACITY / PERIOD * took
        print(f"\n{allowed} of {BURST} allowed in {took:.2f} s (bucket {CAPACITY} + {leaked:.1f})")
        assert CAPACITY <= allowed <= (CAPACITY + leaked) * 1.05, (allowed, took)

        redis.process.kill()  # Redis gone: both replicas keep serving, unlimited meanwhile
        redis.process.wait()
        async with httpx.AsyncClient(timeout=30) as http:
            assert await call(http, a.url, 1) and await call(http, b.url, 2)
        ready = await readyz(b)
        assert ready["peers"] == [] and ready["cluster_error"]
        assert "redis unreachable" in a.output()


def test_a_wrong_redis_url_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "llmspell.toml"
    path.write_text('[limits]\nrate = "5/second"\n[cluster]\nredis = "redis://127.0.0.1:1/0"\n')
    with pytest.raises(RuntimeError) as caught, gateway(config=path, cwd=tmp_path):
        pass
    assert "[cluster] redis redis://127.0.0.1:1/0" in str(caught.value)


def test_the_deploy_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """deploy/llmspell.toml (what compose.yaml's replicas read) loads, with its stores shared."""
    from llmspell.gateway.config import load
    from mcpserver.conftest import ROOT

    monkeypatch.setenv("LLMSPELL_API_KEY", "k")
    monkeypatch.setenv("POSTGRES_PASSWORD", "p")
    config = load(ROOT / "deploy" / "llmspell.toml")
    assert config.state_target() == "postgresql://llmspell:p@postgres:5432/llmspell"
    assert config.a2a_database() == config.state_target()
    assert config.cluster.url() == "redis://redis:6379/0" and config.auth.enabled
