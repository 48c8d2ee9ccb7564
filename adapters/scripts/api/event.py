"""`Event`: publish to and subscribe on the runtime's event bus (topics with `*` patterns)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..engine import HostFunction, ScriptFunction
from .arguments import need
from .binding import async_, sync

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {
        "publish": async_(partial(publish, host)),
        "subscribe": sync(partial(subscribe, host)),
        "unsubscribe": sync(host.runtime.events.unsubscribe),
    }


async def publish(host: ScriptHost, topic: Any, data: Any = None) -> int:
    need(isinstance(topic, str), "Event.publish(topic, data): topic must be a string")
    return await host.runtime.events.publish(topic, data)


def subscribe(host: ScriptHost, pattern: Any, fn: Any) -> int:
    need(isinstance(pattern, str), "Event.subscribe(pattern, fn): pattern must be a string")
    need(isinstance(fn, ScriptFunction), "Event.subscribe(pattern, fn): fn must be a function")

    async def deliver(topic: str, data: Any) -> None:
        await fn.engine.call(fn, topic, data)

    return host.runtime.events.subscribe(pattern, deliver)
