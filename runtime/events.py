"""Events: topic publish/subscribe with glob patterns (`call.*`, `user.*.created`).

A subscription is delivered one of two ways:

- **inline** (`subscribe(pattern, fn)`): `publish` awaits `fn` before it returns, so "publish,
  then my subscriber has run" holds. Scripts' `Event.subscribe` relies on it (the parity suite
  checks it), and so does code that reads what a subscriber recorded right after a call.
- **queued** (`subscribe(pattern, fn, queue=N)`, or `watch(pattern)` for a consumer that takes
  events itself, such as the gateway's `/events` stream): `publish` only puts the event on the
  subscription's bounded queue; a task of the subscription's own, started on the running loop
  at its first event, awaits `fn`. A full queue never slows the publisher: the event is dropped
  and counted in `Subscription.dropped`, and the subscriber is told with one `events.dropped`
  event (`{"dropped": n, "total": t, "pattern": p}`) put ahead of the next event that fits.

A failing subscriber is logged and never reaches the publisher. `aclose()` lets the queued
subscribers finish what they hold (for up to `drain` seconds), then cancels their tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("llmspell.events")

Subscriber = Callable[[str, Any], Awaitable[None]]

DEFAULT_QUEUE = 1000
"""Events a queued subscription holds before it drops."""
DROPPED = "events.dropped"
"""The topic that tells a queued subscriber how many events it lost."""


class Subscription:
    __slots__ = ("_task", "_unreported", "dropped", "fn", "id", "pattern", "queue")

    def __init__(self, id: int, pattern: str, fn: Subscriber | None, queue: int | None) -> None:
        self.id = id
        self.pattern = pattern
        self.fn = fn
        """None for a `watch`: its owner takes the events with `get`."""
        self.queue: asyncio.Queue[tuple[str, Any]] | None = (
            asyncio.Queue(max(1, queue)) if queue is not None else None
        )
        self.dropped = 0
        """Events lost to a full queue, in all."""
        self._unreported = 0
        self._task: asyncio.Task[None] | None = None

    def offer(self, topic: str, data: Any) -> bool:
        """Queue the event without waiting; False when it was dropped (the queue was full)."""
        queue = self.queue
        assert queue is not None
        if self.fn is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        if self._unreported:
            if queue.full():
                return self._drop()
            notice = {"dropped": self._unreported, "total": self.dropped, "pattern": self.pattern}
            queue.put_nowait((DROPPED, notice))
            self._unreported = 0
        if queue.full():
            return self._drop()
        queue.put_nowait((topic, data))
        return True

    def _drop(self) -> bool:
        self.dropped += 1
        self._unreported += 1
        return False

    async def get(self) -> tuple[str, Any]:
        """The next queued event, as (topic, data), for a `watch`'s owner."""
        assert self.queue is not None
        return await self.queue.get()

    async def _drain(self) -> None:
        queue, fn = self.queue, self.fn
        assert queue is not None and fn is not None
        while True:
            topic, data = await queue.get()
            try:
                await fn(topic, data)
            except Exception:
                _failed(self, topic)
            finally:
                queue.task_done()

    async def join(self) -> None:
        """Until every event queued so far has been delivered (a queued `fn`)."""
        if self.queue is not None and self._task is not None:
            await self.queue.join()

    def cancel(self) -> asyncio.Task[None] | None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task


def _failed(sub: Subscription, topic: str) -> None:
    log.exception("event subscriber %s for %r failed on %r", sub.id, sub.pattern, topic)


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[int, Subscription] = {}
        self._ids = itertools.count(1)
        self._match_cache: dict[str, list[Subscription]] = {}

    def __bool__(self) -> bool:
        return bool(self._subs)

    def subscribe(self, pattern: str, fn: Subscriber, *, queue: int | None = None) -> int:
        """Inline delivery, or with `queue` a queue of that many events and a task of its own."""
        return self._add(Subscription(next(self._ids), pattern, fn, queue)).id

    def watch(self, pattern: str, queue: int = DEFAULT_QUEUE) -> Subscription:
        """A queued subscription its owner reads with `await sub.get()`; end it with
        `unsubscribe(sub.id)`."""
        return self._add(Subscription(next(self._ids), pattern, None, queue))

    def _add(self, sub: Subscription) -> Subscription:
        self._subs[sub.id] = sub
        self._match_cache.clear()
        return sub

    def subscription(self, sub_id: int) -> Subscription | None:
        return self._subs.get(sub_id)

    def unsubscribe(self, sub_id: int) -> bool:
        self._match_cache.clear()
        sub = self._subs.pop(sub_id, None)
        if sub is None:
            return False
        sub.cancel()
        return True

    async def publish(self, topic: str, data: Any = None) -> int:
        """Deliver to every matching subscriber in subscription order; returns how many got it
        (inline subscribers called, queued ones with room in their queue)."""
        if not self._subs:
            return 0
        got = 0
        for sub in self._matching(topic):
            if sub.queue is not None:
                got += sub.offer(topic, data)
                continue
            assert sub.fn is not None
            try:
                await sub.fn(topic, data)
            except Exception:
                _failed(sub, topic)
            got += 1
        return got

    async def join(self) -> None:
        """Until the queued subscribers have delivered every event queued so far."""
        for sub in list(self._subs.values()):
            await sub.join()

    async def aclose(self, drain: float = 1.0) -> None:
        """Give queued subscribers up to `drain` seconds to finish, then stop their tasks. The
        subscriptions stay: a later event starts a task again."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain):
                await self.join()
        tasks = [t for sub in self._subs.values() if (t := sub.cancel()) is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    def _matching(self, topic: str) -> list[Subscription]:
        found = self._match_cache.get(topic)
        if found is None:
            found = [s for s in self._subs.values() if fnmatch.fnmatchcase(topic, s.pattern)]
            self._match_cache[topic] = found
        return found
