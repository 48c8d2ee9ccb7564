"""The event bus: inline delivery as before, queued delivery that never slows the publisher."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from llmspell.runtime.events import DROPPED, EventBus


async def test_a_slow_queued_subscriber_drops_and_counts_while_the_publisher_stays_fast() -> None:
    bus = EventBus()
    gate = asyncio.Event()
    got: list[tuple[str, Any]] = []

    async def slow(topic: str, data: Any) -> None:
        await gate.wait()
        got.append((topic, data))

    sub_id = bus.subscribe("tick", slow, queue=10)
    sub = bus.subscription(sub_id)
    assert sub is not None
    started = time.perf_counter()
    counts = [await bus.publish("tick", i) for i in range(1000)]
    elapsed = time.perf_counter() - started
    # The publisher never waited for the blocked subscriber: 1000 publishes in well under a
    # second, though the subscriber has not finished one.
    assert elapsed < 0.5 and got == []
    assert counts == [1] * 10 + [0] * 990
    assert sub.dropped == 990

    gate.set()
    await bus.join()
    assert got == [("tick", i) for i in range(10)]
    # The subscriber learns what it lost ahead of the next event that fits.
    assert await bus.publish("tick", "after") == 1
    await bus.join()
    assert got[10:] == [
        (DROPPED, {"dropped": 990, "total": 990, "pattern": "tick"}),
        ("tick", "after"),
    ]
    await bus.aclose()


async def test_the_publisher_does_not_wait_for_a_queued_subscriber_that_sleeps() -> None:
    bus = EventBus()
    done: list[int] = []

    async def sleepy(topic: str, data: Any) -> None:
        await asyncio.sleep(0.2)
        done.append(data)

    bus.subscribe("*", sleepy, queue=100)
    started = time.perf_counter()
    for i in range(5):
        assert await bus.publish("x", i) == 1
    assert time.perf_counter() - started < 0.1 and done == []
    await asyncio.wait_for(bus.join(), 5)
    assert done == [0, 1, 2, 3, 4]
    await bus.aclose()


async def test_a_failing_queued_subscriber_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    got: list[str] = []

    async def bad(topic: str, data: Any) -> None:
        raise RuntimeError("subscriber bug")

    async def good(topic: str, data: Any) -> None:
        got.append(topic)

    bus.subscribe("a.*", bad, queue=5)
    bus.subscribe("a.b", good, queue=5)
    with caplog.at_level(logging.ERROR, logger="llmspell.events"):
        assert await bus.publish("a.b") == 2
        assert await bus.publish("a.b") == 2
        await bus.join()
    assert got == ["a.b", "a.b"]
    assert any("failed on 'a.b'" in r.getMessage() for r in caplog.records)
    await bus.aclose()


async def test_inline_subscribers_have_run_when_publish_returns() -> None:
    bus = EventBus()
    got: list[Any] = []

    async def record(topic: str, data: Any) -> None:
        got.append(data)

    bus.subscribe("x", record)
    assert await bus.publish("x", 1) == 1
    assert got == [1]


async def test_watch_unsubscribe_and_aclose() -> None:
    bus = EventBus()
    watch = bus.watch("call.*", queue=2)
    assert bus
    for i in range(3):
        await bus.publish("call.started", i)
    await bus.publish("other", "ignored")
    assert [await watch.get(), await watch.get()] == [("call.started", 0), ("call.started", 1)]
    assert watch.dropped == 1
    assert bus.unsubscribe(watch.id) and not bus.unsubscribe(watch.id)
    assert not bus and await bus.publish("call.started", 3) == 0

    # A queued subscriber's task starts with its first event and ends with aclose; a later
    # event starts it again.
    seen: list[Any] = []

    async def record(topic: str, data: Any) -> None:
        seen.append(data)

    bus.subscribe("*", record, queue=10)
    before = len(asyncio.all_tasks())
    await bus.publish("t", 1)
    assert len(asyncio.all_tasks()) == before + 1
    await bus.aclose()
    assert seen == [1] and len(asyncio.all_tasks()) == before
    await bus.publish("t", 2)
    await bus.join()
    assert seen == [1, 2]
    await bus.aclose()
