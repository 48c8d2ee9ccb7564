"""Start a coroutine on the caller's stack and only involve the event loop if it really suspends.

Script engines turn every async host call (Tool.execute, State.get...) into a coroutine. Most of
those finish without ever waiting (a builtin tool, an in-memory state read), so stepping them
eagerly saves the cost of a Task and a loop iteration per call, which is most of a round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")

_PENDING = object()


def start(coro: Coroutine[Any, Any, T]) -> tuple[bool, Any]:
    """Step `coro` once. Returns (True, value) if it finished (raising what it raised), else
    (False, task) with a Task that continues it on the running loop. Outside a Task (a loop
    callback) nothing runs inline, because asyncio's timeouts need a current task."""
    if asyncio.current_task() is None:
        return False, asyncio.ensure_future(coro)
    try:
        first = coro.send(None)
    except StopIteration as stop:
        return True, stop.value
    return False, asyncio.ensure_future(_Resume(coro, first).run())


class _Resume:
    """Hands the future the coroutine is blocked on to the Task, then keeps delegating to it,
    exactly as `yield from` would had the Task started the coroutine itself."""

    __slots__ = ("coro", "pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self.coro = coro
        self.pending = pending

    async def run(self) -> Any:
        return await self

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, out = self.coro, self.pending
        while True:
            try:
                sent = yield out
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the Task, e.g. CancelledError
                try:
                    out = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                out = coro.send(sent)
            except StopIteration as stop:
                return stop.value
