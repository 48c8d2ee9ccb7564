"""`State`: the runtime's key-value store (SQLite in the gateway, memory for `llmspell run`).
A script reads and writes its own scope (`script:<file name>`) unless it asks for another:
`State.scope("global")` or `State.scope("agent:NAME")` gives an object with the same
functions on that scope (`s:get(k)` in Lua, `await s.get(k)` in JS).

`State.set(key, value, {ttl = seconds})` expires the key; `State.update(key, fn)` calls
`fn(current)` and stores what it returns, atomically: concurrent updates of one key run one
after the other, so none is lost (an updater must not update the same key itself)."""

from __future__ import annotations

import os
from contextvars import ContextVar
from functools import partial
from typing import TYPE_CHECKING, Any

from ..engine import HostFunction, HostObject, ScriptFunction
from .arguments import as_object, need
from .binding import async_, sync

if TYPE_CHECKING:
    from .host import ScriptHost

SCOPE_TYPE = "StateScope"
_updating: ContextVar[frozenset[tuple[str, str]]] = ContextVar(
    "llmspell_state_updating", default=frozenset()
)
"""The keys whose updater is running in this context: updating one again from inside its own
updater would wait for itself forever, so it is refused."""


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
        "update": async_(partial(update, host, scope)),
        "scope": sync(partial(open_scope, host)),
    }


class _Scope:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def bind_methods(host: ScriptHost) -> dict[str, HostFunction]:
    """The methods of what `State.scope(name)` returns: the namespace's functions there."""

    def on_scope(fn: Any) -> HostFunction:
        async def method(ref: Any, *args: Any) -> Any:
            held = host.refs.get(ref, _Scope)
            need(held is not None, "not a state scope: use what State.scope(name) returned")
            assert held is not None
            return await fn(host, held.name, *args)

        return async_(method)

    return {
        "get": on_scope(get),
        "set": on_scope(set_),
        "delete": on_scope(delete),
        "keys": on_scope(keys),
        "update": on_scope(update),
    }


def open_scope(host: ScriptHost, name: Any) -> HostObject:
    need(isinstance(name, str) and name != "", "State.scope(name): name must be a non-empty string")
    ref = host.state_scopes.get(name)
    if ref is None:  # one ref per scope, however often a handler asks for it
        ref = host.state_scopes[name] = host.refs.hold(_Scope(name))
    return HostObject(SCOPE_TYPE, ref, {"name": name})


async def get(host: ScriptHost, scope: str, key: Any) -> Any:
    need(isinstance(key, str), "State.get(key): key must be a string")
    return await host.runtime.state.get(scope, key)


async def set_(host: ScriptHost, scope: str, key: Any, value: Any, options: Any = None) -> None:
    need(isinstance(key, str), "State.set(key, value): key must be a string")
    await host.runtime.state.set(scope, key, value, _ttl(options, "State.set"))


async def delete(host: ScriptHost, scope: str, key: Any) -> bool:
    need(isinstance(key, str), "State.delete(key): key must be a string")
    return await host.runtime.state.delete(scope, key)


async def keys(host: ScriptHost, scope: str, prefix: Any = None) -> list[str]:
    need(prefix is None or isinstance(prefix, str), "State.keys(prefix): prefix must be a string")
    return await host.runtime.state.keys(scope, prefix or "")


async def update(host: ScriptHost, scope: str, key: Any, fn: Any, options: Any = None) -> Any:
    need(isinstance(key, str), "State.update(key, fn): key must be a string")
    need(isinstance(fn, ScriptFunction), "State.update(key, fn): fn must be a function")
    script_fn: ScriptFunction = fn
    name = (scope, key)
    need(
        name not in _updating.get(),
        f"State.update({key!r}, fn): fn cannot update {key!r} itself; return the new value",
    )

    async def call(current: Any) -> Any:
        token = _updating.set(_updating.get() | {name})
        try:
            return await script_fn.engine.call(script_fn, current)
        finally:
            _updating.reset(token)

    return await host.runtime.state.update(scope, key, call, _ttl(options, "State.update"))


def _ttl(options: Any, what: str) -> float | None:
    given = as_object(options, f"{what}: options")
    unknown = sorted(set(given) - {"ttl"})
    need(not unknown, f"{what}: unknown option {', '.join(unknown)} (known: ttl)")
    ttl = given.get("ttl")
    need(
        ttl is None or (isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl >= 0),
        f"{what}: ttl must be a number of seconds >= 0",
    )
    return None if ttl is None else float(ttl)
