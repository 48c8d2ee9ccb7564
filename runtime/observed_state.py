"""The runtime's view of its state store: every write passes the `state_write` hook point (and
its event), whatever the backend, so observers are written once."""

from __future__ import annotations

from typing import Any

from .hooks import HookRegistry, fire
from .state import Entry, StateStore, Updater


class ObservedState:
    """A `StateStore` that tells the `state_write` hooks of each set, update, delete and
    import once it is done (observers: they cannot change or stop a write)."""

    def __init__(self, store: StateStore, hooks: HookRegistry) -> None:
        self.store = store
        self.hooks = hooks

    async def _wrote(self, scope: str, key: str, op: str) -> None:
        if self.hooks.wants("state_write"):
            await fire(self.hooks, "state_write", {"scope": scope, "key": key, "op": op}, key)

    async def get(self, scope: str, key: str) -> Any:
        return await self.store.get(scope, key)

    async def set(self, scope: str, key: str, value: Any, ttl: float | None = None) -> None:
        await self.store.set(scope, key, value, ttl)
        await self._wrote(scope, key, "set")

    async def delete(self, scope: str, key: str) -> bool:
        deleted = await self.store.delete(scope, key)
        if deleted:
            await self._wrote(scope, key, "delete")
        return deleted

    async def keys(self, scope: str, prefix: str = "") -> list[str]:
        return await self.store.keys(scope, prefix)

    async def update(self, scope: str, key: str, fn: Updater, ttl: float | None = None) -> Any:
        value = await self.store.update(scope, key, fn, ttl)
        await self._wrote(scope, key, "update")
        return value

    async def scopes(self) -> list[str]:
        return await self.store.scopes()

    async def export(self, scope: str | None = None) -> list[Entry]:
        return await self.store.export(scope)

    async def import_(self, entries: list[Entry]) -> int:
        count = await self.store.import_(entries)
        for entry in entries:
            await self._wrote(entry.scope, entry.key, "import")
        return count

    async def aclose(self) -> None:
        await self.store.aclose()
