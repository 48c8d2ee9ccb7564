from __future__ import annotations

import asyncio

import pytest
from llmspell.adapters.scripts.eager import start


async def test_finishes_inline_without_a_task() -> None:
    async def quick() -> int:
        return 5

    before = len(asyncio.all_tasks())
    assert start(quick()) == (True, 5)
    assert len(asyncio.all_tasks()) == before


async def test_suspending_coroutine_continues_as_task() -> None:
    async def slow() -> int:
        await asyncio.sleep(0.01)
        await asyncio.sleep(0)
        return 7

    done, task = start(slow())
    assert not done
    assert await task == 7


async def test_exceptions_and_cancellation_propagate() -> None:
    async def boom() -> None:
        raise ValueError("inline")

    with pytest.raises(ValueError, match="inline"):
        start(boom())

    cleaned = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(100)
        finally:
            cleaned.set()

    _, task = start(forever())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned.is_set()
