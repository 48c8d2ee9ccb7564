"""What a script holds by number: the `ctx` of a tool call in flight, the `task` of a hosted
agent's turn, an agent from `Agent.create`. The host object a script gets carries only the
number; the Python object stays here, so a script can neither forge one nor reach into it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class Refs:
    __slots__ = ("_held", "_last")

    def __init__(self) -> None:
        self._held: dict[int, object] = {}
        self._last = 0

    def hold(self, value: object) -> int:
        self._last += 1
        self._held[self._last] = value
        return self._last

    def release(self, ref: int) -> None:
        self._held.pop(ref, None)

    @contextmanager
    def holding(self, value: object) -> Iterator[int]:
        """Held while the block runs: a handler's `ctx` or `task` is dead once it returns."""
        ref = self.hold(value)
        try:
            yield ref
        finally:
            self.release(ref)

    def get(self, ref: Any, kind: type[T]) -> T | None:
        """The object behind `ref` if it is still held and is a `kind`, else None."""
        value = self._held.get(ref) if isinstance(ref, int) else None
        return value if isinstance(value, kind) else None

    async def aclose(self) -> None:
        """Close what the script still holds that owns connections (its agents' providers);
        duck-typed, so closing a script never imports the LLM stack it did not use."""
        for value in list(self._held.values()):
            closer = getattr(value, "aclose", None)
            if closer is not None:
                await closer()
