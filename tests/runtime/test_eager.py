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


async def test_suspended_coroutine_finishes_in_the_same_task() -> None:
    me = asyncio.current_task()
    seen: list[asyncio.Task[object] | None] = []

    async def slow() -> int:
        seen.append(asyncio.current_task())
        await asyncio.sleep(0.01)
        seen.append(asyncio.current_task())
        return 7

    done, rest = start(slow())
    assert not done
    assert await rest == 7
    assert seen == [me, me]


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

    async def driver() -> None:
        _, rest = start(forever())
        await rest

    task = asyncio.create_task(driver())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned.is_set()


async def test_in_a_loop_callback_nothing_runs_inline() -> None:
    ran: list[bool] = []
    outcome: list[tuple[bool, object]] = []

    async def work() -> str:
        ran.append(True)
        return "ran later"

    loop = asyncio.get_running_loop()
    called = asyncio.Event()

    def callback() -> None:  # loop callbacks have no current task
        outcome.append(start(work()))
        called.set()

    loop.call_soon(callback)
    await called.wait()
    done, coro = outcome[0]
    assert not done and ran == []
    assert await coro == "ran later"  # type: ignore[misc]
