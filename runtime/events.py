"""Events: topic publish/subscribe with glob patterns (`call.*`, `user.*.created`)."""

from __future__ import annotations

import fnmatch
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("llmspell.events")

Subscriber = Callable[[str, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    pattern: str
    fn: Subscriber


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[int, Subscription] = {}
        self._ids = itertools.count(1)
        self._match_cache: dict[str, list[Subscription]] = {}

    def __bool__(self) -> bool:
        return bool(self._subs)

    def subscribe(self, pattern: str, fn: Subscriber) -> int:
        sub = Subscription(next(self._ids), pattern, fn)
        self._subs[sub.id] = sub
        self._match_cache.clear()
        return sub.id

    def unsubscribe(self, sub_id: int) -> bool:
        self._match_cache.clear()
        return self._subs.pop(sub_id, None) is not None

    async def publish(self, topic: str, data: Any = None) -> int:
        """Deliver to every matching subscriber in subscription order; returns how many got it.

        A failing subscriber is logged and does not stop delivery to the others.
        """
        if not self._subs:
            return 0
        subs = self._matching(topic)
        for sub in subs:
            try:
                await sub.fn(topic, data)
            except Exception:
                log.exception("event subscriber %s for %r failed on %r", sub.id, sub.pattern, topic)
        return len(subs)

    def _matching(self, topic: str) -> list[Subscription]:
        found = self._match_cache.get(topic)
        if found is None:
            found = [s for s in self._subs.values() if fnmatch.fnmatchcase(topic, s.pattern)]
            self._match_cache[topic] = found
        return found
