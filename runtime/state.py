"""State: a scoped key-value port. Memory here; SQLite (and later PostgreSQL) in adapters.

A scope keeps independent users apart: `global`, and one per script (`script:flows.lua`),
agent (`agent:NAME`), workflow (`workflow:NAME`) and session (`session:ID`). Values are the
JSON-like data scripts carry (None, bool, int, float, str, bytes, lists, string-keyed dicts);
anything else is refused with an error naming the key. A key may expire (`ttl` seconds).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import ErrorCode, LLMSpellError

GLOBAL = "global"
Updater = Callable[[Any], Awaitable[Any]]
"""Given the current value (None when unset), returns the new one."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored value, as export and import carry it."""

    scope: str
    key: str
    value: Any
    expires_at: float | None = None
    """Unix time after which the key is gone; None: never."""


class StateStore(Protocol):
    async def get(self, scope: str, key: str) -> Any: ...
    async def set(self, scope: str, key: str, value: Any, ttl: float | None = None) -> None: ...
    async def delete(self, scope: str, key: str) -> bool: ...
    async def keys(self, scope: str, prefix: str = "") -> list[str]: ...
    async def update(self, scope: str, key: str, fn: Updater, ttl: float | None = None) -> Any:
        """Atomic read-modify-write: concurrent updates of one key never lose one."""
        ...

    async def scopes(self) -> list[str]: ...
    async def export(self, scope: str | None = None) -> list[Entry]: ...
    async def import_(self, entries: list[Entry]) -> int: ...
    async def aclose(self) -> None: ...


def check_value(key: str, value: Any) -> None:
    """Refuse what cannot be stored, naming the key and where in the value it is."""
    problem = _unstorable(value, "")
    if problem is not None:
        raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"state key {key!r}: {problem}")


def expiry(ttl: float | None) -> float | None:
    """The Unix time a key set now with `ttl` seconds expires; refuses a negative or NaN ttl."""
    if ttl is None:
        return None
    if not ttl >= 0:
        raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"ttl must be >= 0 seconds, not {ttl}")
    return time.time() + ttl


def _unstorable(value: Any, at: str) -> str | None:
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _unstorable(item, f"{at}[{i}]")
            if found is not None:
                return found
        return None
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                return f"a table/object key at {at or 'the top'} is not a string ({k!r})"
            found = _unstorable(item, f"{at}.{k}" if at else k)
            if found is not None:
                return found
        return None
    return f"a {type(value).__name__} at {at or 'the top'} cannot be stored"


class KeyLocks:
    """One asyncio lock per (scope, key) while someone holds or waits for it, then forgotten,
    so `update` serialises callers of one key without keeping a lock for every key ever used."""

    __slots__ = ("_locks",)

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, scope: str, key: str) -> AsyncIterator[None]:
        name = (scope, key)
        lock, users = self._locks.get(name) or (asyncio.Lock(), 0)
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class MemoryStateStore:
    """In-process, gone with the process (`[state] backend = "memory"`, `llmspell run`).
    Values are deep-copied in and out so callers never share mutable structures."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], tuple[Any, float | None]] = {}
        self._locks = KeyLocks()

    def _live(self, scope: str, key: str) -> tuple[Any, float | None] | None:
        found = self._data.get((scope, key))
        if found is not None and found[1] is not None and found[1] <= time.time():
            del self._data[(scope, key)]
            return None
        return found

    async def get(self, scope: str, key: str) -> Any:
        found = self._live(scope, key)
        return None if found is None else copy.deepcopy(found[0])

    async def set(self, scope: str, key: str, value: Any, ttl: float | None = None) -> None:
        check_value(key, value)
        self._data[(scope, key)] = (copy.deepcopy(value), expiry(ttl))

    async def delete(self, scope: str, key: str) -> bool:
        """True when a live key was removed (an expired one is already gone)."""
        return self._live(scope, key) is not None and self._data.pop((scope, key)) is not None

    async def keys(self, scope: str, prefix: str = "") -> list[str]:
        return sorted(
            k
            for (s, k) in list(self._data)
            if s == scope and k.startswith(prefix) and self._live(s, k) is not None
        )

    async def update(self, scope: str, key: str, fn: Updater, ttl: float | None = None) -> Any:
        async with self._locks.hold(scope, key):
            value = await fn(await self.get(scope, key))
            await self.set(scope, key, value, ttl)
            return copy.deepcopy(value)

    async def scopes(self) -> list[str]:
        return sorted({s for (s, k) in list(self._data) if self._live(s, k) is not None})

    async def export(self, scope: str | None = None) -> list[Entry]:
        return [
            Entry(s, k, copy.deepcopy(v), exp)
            for (s, k), (v, exp) in sorted(self._data.items())
            if (scope is None or s == scope) and self._live(s, k) is not None
        ]

    async def import_(self, entries: list[Entry]) -> int:
        """All or nothing: one unstorable value and none of the entries is written."""
        for e in entries:
            check_value(e.key, e.value)
        for e in entries:
            self._data[(e.scope, e.key)] = (copy.deepcopy(e.value), e.expires_at)
        return len(entries)

    async def aclose(self) -> None:
        return None
