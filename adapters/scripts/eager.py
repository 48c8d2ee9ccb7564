"""Start a coroutine on the caller's stack and only involve the event loop if it really suspends.

Script engines turn async host calls (Tool.execute, State.get...) into coroutines. Most finish
without ever waiting (a builtin tool, an in-memory state read), so stepping them eagerly saves a
Task and a loop iteration per call, which is most of a round trip.

The caller must finish a suspended coroutine by awaiting the returned awaitable in the *same*
task that called `start`: code such as `asyncio.timeout` or anyio cancel scopes binds to the
task it was entered in, so moving a half-run coroutine to another Task would break it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any


def start(coro: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
    """Step `coro` once. Returns (True, value) if it finished (raising what it raised), else
    (False, awaitable) that the calling task awaits to finish it. Outside a task nothing is run
    inline (the coroutine itself is returned, unstarted)."""
    if asyncio.current_task() is None:
        return False, coro
    try:
        first = coro.send(None)
    except StopIteration as stop:
        return True, stop.value
    return False, _Resume(coro, first)


class _Resume(Awaitable[Any]):
    """Hands the future the coroutine is blocked on to the awaiting task, then keeps delegating
    to it, exactly as `await coro` would have had the task started the coroutine itself."""

    __slots__ = ("coro", "pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self.coro = coro
        self.pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, out = self.coro, self.pending
        while True:
            try:
                sent = yield out
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task, e.g. CancelledError
                try:
                    out = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                out = coro.send(sent)
            except StopIteration as stop:
                return stop.value
