"""`State`: the runtime's key-value store (SQLite in the gateway, memory for `llmspell run`).
A script reads and writes its own scope (`script:<file name>`) unless it asks for another."""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING, Any

from ..engine import HostFunction
from .arguments import need
from .binding import async_

if TYPE_CHECKING:
    from .host import ScriptHost


def scope_of(host: ScriptHost) -> str:
    """`script:flows.lua`: the file's name, so the same script finds its keys whatever the
    working directory or the path it was started with."""
    source = host.source.removeprefix("script:")
    return f"script:{os.path.basename(source) or source}"


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    scope = scope_of(host)
    return {
        "get": async_(partial(get, host, scope)),
        "set": async_(partial(set_, host, scope)),
        "delete": async_(partial(delete, host, scope)),
        "keys": async_(partial(keys, host, scope)),
    }


async def get(host: ScriptHost, scope: str, key: Any) -> Any:
    need(isinstance(key, str), "State.get(key): key must be a string")
    return await host.runtime.state.get(scope, key)


async def set_(host: ScriptHost, scope: str, key: Any, value: Any) -> None:
    need(isinstance(key, str), "State.set(key, value): key must be a string")
    await host.runtime.state.set(scope, key, value)


async def delete(host: ScriptHost, scope: str, key: Any) -> bool:
    need(isinstance(key, str), "State.delete(key): key must be a string")
    return await host.runtime.state.delete(scope, key)


async def keys(host: ScriptHost, scope: str, prefix: Any = None) -> list[str]:
    return await host.runtime.state.keys(scope, prefix or "")
