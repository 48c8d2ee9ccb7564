"""The Scheduler in-process, on a real runtime and the real SQLite state store: the overlap
rules, manual runs, a stall past `misfire_grace`, reconfiguring, stopping, and what a
restart finds. Components are ordinary catalog tools with Python handlers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from llmspell.adapters.state import SqliteStateStore
from llmspell.gateway.schedule_config import ScheduleConfig
from llmspell.gateway.scheduler import Loaded, Scheduler, UnknownJob
from llmspell.runtime import Component, Invocation, Result, Runtime


def runtime_at(path: Path) -> Runtime:
    runtime = Runtime(state=SqliteStateStore(path))
    calls: list[str] = []

    async def nap(inv: Invocation) -> Result:
        calls.append(inv.caller.subject)
        await asyncio.sleep(float(inv.arguments.get("seconds", 0)))
        return Result.of({"slept": inv.arguments.get("seconds", 0)})

    runtime.catalog.register(Component("nap", nap))
    return runtime


async def no_scripts(path: Path, args: list[str]) -> Loaded:
    raise AssertionError("no script jobs here")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Path]:
    yield tmp_path / "state.db"


def job(name: str, **fields: object) -> ScheduleConfig:
    return ScheduleConfig.model_validate({"name": name, "tool": "nap", "every": "1h", **fields})


async def started(runtime: Runtime, *entries: ScheduleConfig) -> Scheduler:
    scheduler = Scheduler(runtime, list(entries), base_dir=Path("."), load_script=no_scripts)
    await scheduler.start()
    return scheduler


async def test_manual_runs_follow_the_overlap_rules(db: Path) -> None:
    runtime = runtime_at(db)
    scheduler = await started(
        runtime,
        job("skip", args={"seconds": 0.3}),
        job("queue", overlap="queue", args={"seconds": 0.3}),
    )
    try:
        first = await scheduler.trigger("skip")
        assert first.status == "running" and scheduler.job("skip").running
        second = await scheduler.trigger("skip")
        assert second.status == "skipped" and second.error == "the previous run is still going"

        going = await scheduler.trigger("queue")
        queued = asyncio.create_task(scheduler.trigger("queue", wait=True))
        await asyncio.sleep(0.05)
        extra = await scheduler.trigger("queue")  # one queued already: this one is skipped
        assert extra.status == "skipped", extra
        finished = await queued
        assert finished.status == "ok" and finished.result == {
            "text": "",
            "data": {"slept": 0.3},
            "is_error": False,
        }
        runs = await scheduler.runs("queue")
        assert [r.status for r in runs] == ["ok", "skipped", "ok"]
        assert runs[2].id == going.id and runs[0].started_at >= runs[2].finished_at  # type: ignore[operator]
        assert all(r.trigger == "manual" for r in runs)
    finally:
        await scheduler.aclose(grace=2)
        await runtime.state.aclose()


async def test_a_stall_past_misfire_grace_is_skipped(db: Path) -> None:
    runtime = runtime_at(db)
    scheduler = await started(runtime, job("tick", every="0.2s", misfire_grace=0.3))
    try:
        time.sleep(0.8)  # noqa: ASYNC251 (a real stall: the run due at 0.2 s is 0.6 s late)
        await asyncio.sleep(0.1)
        runs = await scheduler.runs("tick")
        assert runs and runs[-1].status == "skipped", runs
        assert "misfire_grace" in (runs[-1].error or "")
        await asyncio.sleep(0.35)  # back on time: the next run happens
        assert (await scheduler.runs("tick"))[0].status == "ok"
    finally:
        await scheduler.aclose()
        await runtime.state.aclose()


async def test_reconfigure_adds_removes_and_keeps_runs(db: Path) -> None:
    runtime = runtime_at(db)
    scheduler = await started(runtime, job("kept"), job("gone"))
    try:
        kept = await scheduler.trigger("kept", wait=True)
        due = scheduler.job("kept").next_run
        await scheduler.reconfigure([job("kept"), job("new", every="0.1s")])
        assert [j.name for j in scheduler.jobs()] == ["kept", "new"]
        assert scheduler.job("kept").next_run == due  # unchanged: its clock goes on
        assert scheduler.job("kept").last_run == kept
        with pytest.raises(UnknownJob) as raised:
            scheduler.job("gone")
        assert str(raised.value) == "gone"
        await asyncio.sleep(0.25)
        assert (await scheduler.runs("new"))[0].status == "ok"
        await scheduler.reconfigure([job("kept", every="2h")])
        status = scheduler.job("kept")
        assert status.schedule == "every 2h" and status.next_run != due
        assert (await scheduler.runs("kept"))[0].id == kept.id
    finally:
        await scheduler.aclose()
        await runtime.state.aclose()


async def test_stopping_cancels_runs_and_a_restart_finds_them(db: Path) -> None:
    runtime = runtime_at(db)
    scheduler = await started(runtime, job("long", args={"seconds": 30}), job("paused"))
    await scheduler.pause("paused")
    running = await scheduler.trigger("long")
    began = time.monotonic()
    await scheduler.aclose(grace=0.2)
    assert time.monotonic() - began < 2
    await runtime.state.aclose()

    runtime = runtime_at(db)
    scheduler = await started(runtime, job("long", args={"seconds": 30}), job("paused"))
    try:
        [record] = await scheduler.runs("long")
        assert record.id == running.id and record.status == "cancelled", record
        assert "stopped" in (record.error or "")
        status = scheduler.job("paused")
        assert status.paused and status.next_run is None
        resumed = await scheduler.resume("paused")
        assert not resumed.paused and resumed.next_run is not None
    finally:
        await scheduler.aclose()
        await runtime.state.aclose()


async def test_keep_bounds_the_stored_runs(db: Path) -> None:
    runtime = runtime_at(db)
    scheduler = await started(runtime, job("few", keep=3))
    try:
        ids = [(await scheduler.trigger("few", wait=True)).id for _ in range(5)]
        assert [r.id for r in await scheduler.runs("few")] == ids[::-1][:3]
        assert [r.id for r in await scheduler.runs("few", limit=2)] == ids[::-1][:2]
        with pytest.raises(UnknownJob):
            await scheduler.runs("nope")
    finally:
        await scheduler.aclose()
        await runtime.state.aclose()
