"""The MCP event store port (Streamable HTTP resumability), one suite for the memory store and
the Redis one replicas share: replay after an event gives that stream's later events in order
and nothing of other streams; priming events are not replayed; an unknown or malformed id
resumes nothing; the Redis store caps each stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import mcp_types as types
import pytest
from llmspell.protocols.mcp.event_store import MemoryEventStore
from llmspell.protocols.mcp.redis_events import RedisEventStore
from mcp.server.streamable_http import EventMessage, EventStore
from redis_server import RedisServer, running_redis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[EventStore]:
    if request.param == "memory":
        yield MemoryEventStore()
        return
    import redis.asyncio

    client = redis.asyncio.from_url(request.getfixturevalue("redis_server").url)
    await client.flushdb()
    try:
        yield RedisEventStore(client, prefix="test", capacity=50)
    finally:
        await client.aclose()


def note(n: int) -> Any:
    return types.JSONRPCNotification(
        jsonrpc="2.0", method="notifications/progress", params={"progressToken": 1, "progress": n}
    )


async def replayed(store: EventStore, after: str) -> tuple[str | None, list[tuple[int, str]]]:
    got: list[EventMessage] = []

    async def send(event: EventMessage) -> None:
        got.append(event)

    stream = await store.replay_events_after(after, send)
    return stream, [(e.message.params["progress"], e.event_id) for e in got]  # type: ignore[union-attr]


async def test_replay_gives_the_streams_later_events_in_order(store: EventStore) -> None:
    priming = await store.store_event("s1", None)
    ids = [await store.store_event("s1", note(n)) for n in range(5)]
    other = await store.store_event("s2", note(99))
    ids.append(await store.store_event("s1", note(5)))

    stream, events = await replayed(store, ids[1])
    assert stream == "s1"
    assert events == [(2, ids[2]), (3, ids[3]), (4, ids[4]), (5, ids[5])]
    stream, events = await replayed(store, priming)  # a client that saw only the priming event
    assert stream == "s1" and [n for n, _ in events] == [0, 1, 2, 3, 4, 5]
    stream, events = await replayed(store, other)
    assert stream == "s2" and events == []
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("bad", ["", "nonsense", "s1/", "/1-0", "s1/not-an-id", "99999999"])
async def test_unknown_or_malformed_ids_resume_nothing(store: EventStore, bad: str) -> None:
    await store.store_event("s1", note(1))
    assert await replayed(store, bad) == (None, [])


async def test_redis_caps_each_stream(redis_server: RedisServer) -> None:
    import redis.asyncio

    client = redis.asyncio.from_url(redis_server.url)
    try:
        store = RedisEventStore(client, prefix="cap", capacity=10, ttl=60)
        for n in range(500):
            await store.store_event("big", note(n))
        assert await client.xlen("cap:events:big") < 200  # approximate trimming, far below 500
        assert 0 < await client.ttl("cap:events:big") <= 60
    finally:
        await client.aclose()
