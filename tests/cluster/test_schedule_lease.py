"""An `every = "1s"` job on two `llmspell serve` replicas sharing Redis (`[cluster] redis`) and a
PostgreSQL state store runs once per tick, not once per replica: over 10 s the job's script
counts about 10 runs (per-replica clocks would count about 20), and each tick ran on exactly one
replica."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.state.postgres import PostgresStateStore
from mcpserver.conftest import gateway
from redis_server import RedisServer, running_redis
from state.test_store import pg_url
from tools.postgres import PostgresServer

SECONDS = 10.0
TICK = """
local n = State.scope("global"):update("ticks", function(v) return (v or 0) + 1 end)
local replica = ARGS[1]
State.scope("global"):update("by:" .. replica, function(v) return (v or 0) + 1 end)
"""


@pytest.fixture
def shared(postgres: PostgresServer) -> Iterator[tuple[PostgresServer, RedisServer]]:
    with running_redis() as redis:
        try:
            yield postgres, redis
        finally:
            postgres.psql("DROP TABLE IF EXISTS llmspell_state, llmspell_schema")


def replica(tmp: Path, name: str, pg: PostgresServer, redis: RedisServer) -> Path:
    folder = tmp / name
    folder.mkdir()
    (folder / "tick.lua").write_text(TICK)
    config = folder / "llmspell.toml"
    config.write_text(
        f"""
[a2a]
enabled = false
[state]
backend = "{pg_url(pg)}"
[cluster]
redis = "{redis.url}"
replica = "{name}"
[[schedule]]
name = "tick"
every = "1s"
run = "tick.lua"
args = ["{name}"]
"""
    )
    return config


def test_a_job_runs_once_per_tick_across_replicas(
    tmp_path: Path, shared: tuple[PostgresServer, RedisServer]
) -> None:
    pg, redis = shared

    async def read() -> tuple[int, dict[str, int], list[dict[str, Any]]]:
        store = PostgresStateStore(pg_url(pg))
        try:
            ticks = await store.get("global", "ticks") or 0
            by = {k: await store.get("global", k) for k in await store.keys("global", "by:")}
            return ticks, by, await store.get("scheduler", "runs:tick") or []
        finally:
            await store.aclose()

    with (
        gateway(config=replica(tmp_path, "a", pg, redis), cwd=tmp_path, command="serve"),
        gateway(config=replica(tmp_path, "b", pg, redis), cwd=tmp_path, command="serve"),
    ):
        before, _, _ = asyncio.run(read())  # both replicas are up from here on
        time.sleep(SECONDS)
        after, by, runs = asyncio.run(read())
    ticks = after - before
    print(f"\n{ticks} runs in {SECONDS:g} s on two replicas (all runs by replica: {by})")
    assert SECONDS - 2 <= ticks <= SECONDS + 1, (ticks, by)
    assert sum(by.values()) == after
    starts = sorted(datetime.fromisoformat(r["started_at"]) for r in runs)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert all(gap > 0.5 for gap in gaps), gaps  # no tick ran twice
