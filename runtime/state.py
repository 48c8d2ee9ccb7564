"""State: a key-value port. The in-memory store is the first adapter; persistent ones follow."""

from __future__ import annotations

import copy
from typing import Any, Protocol


class StateStore(Protocol):
    async def get(self, key: str) -> Any: ...
    async def set(self, key: str, value: Any) -> None: ...
    async def delete(self, key: str) -> bool: ...
    async def keys(self, prefix: str = "") -> list[str]: ...


class MemoryStateStore:
    """Values are deep-copied in and out so callers never share mutable structures."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}

    async def get(self, key: str) -> Any:
        return copy.deepcopy(self._data.get(key))

    async def set(self, key: str, value: Any) -> None:
        self._data[key] = copy.deepcopy(value)

    async def delete(self, key: str) -> bool:
        return self._data.pop(key, None) is not None

    async def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self._data if k.startswith(prefix))
