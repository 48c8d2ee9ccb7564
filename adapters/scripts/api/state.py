"""`State`: the runtime's key-value store (SQLite in the gateway, memory for `llmspell run`)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..engine import HostFunction
from .arguments import need
from .binding import async_

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    state = host.runtime.state
    return {
        "get": async_(state.get),
        "set": async_(partial(set_, host)),
        "delete": async_(state.delete),
        "keys": async_(partial(keys, host)),
    }


async def set_(host: ScriptHost, key: Any, value: Any) -> None:
    need(isinstance(key, str), "State.set(key, value): key must be a string")
    await host.runtime.state.set(key, value)


async def keys(host: ScriptHost, prefix: Any = None) -> list[str]:
    return await host.runtime.state.keys(prefix or "")
