"""Fire-and-forget work (notifications, closing an evicted session) that must not block what
caused it. The tasks are kept referenced until they end, so the loop cannot drop them."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

_running: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, Any]) -> None:
    try:
        task = asyncio.get_running_loop().create_task(coro)
    except RuntimeError:
        coro.close()  # no loop: nothing is running to do it for
        return
    _running.add(task)
    task.add_done_callback(_running.discard)
