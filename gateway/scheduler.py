"""The scheduler `llmspell serve` runs: `[[schedule]]` jobs on a clock (cron or an interval).

Each run is an ordinary call through the pipeline as the identity `scheduler`, so policy,
limits, hooks, metrics and events see it like any other; a script job runs its file in a
fresh engine that is closed afterwards. Runs and the paused flag live in the runtime's state
store (scope `scheduler`), the last `keep` per job, so they outlast a restart. The REST API
(`/api/v1/jobs`) and `llmspell jobs` use the public methods only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from llmspell.runtime import Component, ErrorCode, Identity, Invocation, LLMSpellError, Result

from .schedule_config import ScheduleConfig

if TYPE_CHECKING:
    from llmspell.runtime import Runtime

    from .assembly import Assembly

SCOPE = "scheduler"
"""The state scope: `runs:NAME` (newest first) and `paused:NAME`."""
CALLER = Identity(subject="scheduler")
MAX_TEXT = 64 * 1024
"""Characters of a result's text kept with a run."""
Status = Literal["running", "ok", "error", "skipped", "cancelled"]
Lease = Callable[[str, datetime], Awaitable[bool]]
"""(job, due time) -> whether this replica takes that tick."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
logger = logging.getLogger("llmspell.scheduler")


class UnknownJob(LookupError):
    """No job has this name; str(exc) is the name."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class RunRecord:
    id: str
    job: str
    trigger: Literal["schedule", "manual"]
    status: Status
    started_at: str
    finished_at: str | None
    result: dict[str, Any] | None
    """`{"text", "data", "is_error"}` of the call."""
    error: str | None


@dataclass(frozen=True)
class JobStatus:
    name: str
    schedule: str
    target: str
    paused: bool
    running: bool
    next_run: str | None
    last_run: RunRecord | None


class Loaded(Protocol):
    """A script run into a fresh engine (adapters.scripts.loader.LoadedScript)."""

    value: Any

    def unload(self) -> None: ...
    async def aclose(self) -> None: ...


LoadScript = Callable[[Path, list[str]], Awaitable[Loaded]]


def script_loader(assembly: Assembly) -> LoadScript:
    """Loads like `Assembly.load` (its limits, roots and writer) but keeps nothing: the job
    closes each run's engine."""

    async def load(path: Path, args: list[str]) -> Loaded:
        from llmspell.adapters.scripts.loader import load_script

        return await load_script(
            assembly.runtime,
            str(path),
            limits=assembly.limits,
            args=args,
            stdout=assembly.write,
            stderr=assembly.write,
            roots=assembly.roots,
        )

    return load


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


class _Job:
    """One job's state in this process; what must outlast it is in the store."""

    def __init__(
        self, config: ScheduleConfig, paused: bool, last: RunRecord | None, aligned: bool = False
    ) -> None:
        self.config = config
        self.paused = paused
        self.last = last
        self.aligned = aligned
        """`every` counts from the Unix epoch, not from now: replicas agree on each tick."""
        self.anchor = _now()
        self.next_due: datetime | None = None
        self.loop: asyncio.Task[None] | None = None
        self.current: RunRecord | None = None
        self.queued: tuple[Literal["schedule", "manual"], asyncio.Future[RunRecord]] | None = None
        self.wake = asyncio.Event()
        self.restart_clock()

    def restart_clock(self) -> None:
        """Count again from now (a new schedule, a resume); the clock task looks again."""
        now = _now()
        self.anchor = EPOCH if self.aligned else now
        self.next_due = None if self.paused else self.config.next_after(now, self.anchor)
        self.wake.set()


class Scheduler:
    def __init__(
        self,
        runtime: Runtime,
        entries: list[ScheduleConfig],
        *,
        base_dir: Path,
        load_script: LoadScript,
        lease: Lease | None = None,
    ) -> None:
        self.runtime = runtime
        self.lease = lease
        """With replicas (`[cluster] redis`): taken per job and tick, so one replica runs it."""
        self.base_dir = base_dir
        self.load_script = load_script
        self._entries = list(entries)
        self._jobs: dict[str, _Job] = {}
        self._runs: dict[str, asyncio.Task[RunRecord]] = {}
        self._calls: dict[str, Invocation] = {}
        """The invocation of each run going, by run id: what stopping cancels."""
        self._closed = False

    # -- life --------------------------------------------------------------------------------

    async def start(self) -> None:
        for entry in self._entries:
            await self._add(entry)

    async def aclose(self, grace: float = 0.0) -> None:
        """Stop the clocks; let runs in progress finish for `grace` seconds, then cancel them
        (recorded as cancelled)."""
        self._closed = True
        for job in self._jobs.values():
            await self._stop(job)
        running = list(self._runs.values())
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        for inv in list(self._calls.values()):  # also runs of jobs reconfigured away
            inv.cancel.cancel("the scheduler stopped")
        if running:
            await asyncio.wait(running)

    async def reconfigure(self, entries: list[ScheduleConfig]) -> None:
        """Jobs added, removed or changed (a changed job's clock starts again); an unchanged
        job keeps its clock, and every job keeps its runs. A removed job's run in progress
        finishes."""
        wanted = {e.name: e for e in entries}
        for name in [n for n in self._jobs if n not in wanted]:
            await self._stop(self._jobs.pop(name))
        for entry in entries:
            job = self._jobs.get(entry.name)
            if job is None:
                await self._add(entry)
            elif job.config != entry:
                if job.config.paused != entry.paused:
                    job.paused = entry.paused
                    await self.runtime.state.set(SCOPE, f"paused:{entry.name}", entry.paused)
                job.config = entry
                job.restart_clock()
        self._entries = list(entries)

    async def _add(self, config: ScheduleConfig) -> None:
        state, name = self.runtime.state, config.name
        paused = await state.get(SCOPE, f"paused:{name}")
        records = await state.get(SCOPE, f"runs:{name}") or []
        if any(r["status"] == "running" for r in records):  # the process ended during a run
            gone = {"status": "cancelled", "error": "the server stopped during the run"}
            records = [{**r, **gone} if r["status"] == "running" else r for r in records]
            await state.set(SCOPE, f"runs:{name}", records)
        last = RunRecord(**records[0]) if records else None
        paused = config.paused if paused is None else bool(paused)
        job = _Job(config, paused, last, aligned=self.lease is not None)
        self._jobs[name] = job
        job.loop = asyncio.create_task(self._clock(job), name=f"llmspell job {name}")

    async def _stop(self, job: _Job) -> None:
        if job.loop is not None:
            job.loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.loop
            job.loop = None
        if job.queued is not None:
            trigger, waiting = job.queued
            job.queued = None
            gone = self._new(job, trigger, "cancelled")
            why = "the job stopped before its queued run started"
            waiting.set_result(await self._record(job, gone, final=True, why=why))

    # -- what the API sees -------------------------------------------------------------------

    def jobs(self) -> list[JobStatus]:
        return [self._status(self._jobs[e.name]) for e in self._entries if e.name in self._jobs]

    def job(self, name: str) -> JobStatus:
        return self._status(self._job(name))

    async def runs(self, name: str, limit: int = 20) -> list[RunRecord]:
        """Newest first."""
        self._job(name)
        records = await self.runtime.state.get(SCOPE, f"runs:{name}") or []
        return [RunRecord(**r) for r in records[: max(0, limit)]]

    async def trigger(self, name: str, *, wait: bool = False) -> RunRecord:
        """A manual run now, also when paused. The overlap rule applies: with `skip` a run
        going means this one is recorded as skipped; with `queue` it waits for that run (and
        this returns when it starts, or, with `wait`, when it ends)."""
        job = self._job(name)
        fired = await self._fire(job, "manual")
        record = fired if isinstance(fired, RunRecord) else await asyncio.shield(fired)
        if wait and record.status == "running":
            task = self._runs.get(record.id)
            if task is not None:
                record = await asyncio.shield(task)
        return record

    async def pause(self, name: str) -> JobStatus:
        return await self._set_paused(self._job(name), True)

    async def resume(self, name: str) -> JobStatus:
        return await self._set_paused(self._job(name), False)

    async def _set_paused(self, job: _Job, paused: bool) -> JobStatus:
        await self.runtime.state.set(SCOPE, f"paused:{job.config.name}", paused)
        if job.paused != paused:
            job.paused = paused
            job.restart_clock()
        return self._status(job)

    def _job(self, name: str) -> _Job:
        job = self._jobs.get(name)
        if job is None:
            raise UnknownJob(name)
        return job

    def _status(self, job: _Job) -> JobStatus:
        due = None if job.paused or job.next_due is None else _iso(job.next_due)
        return JobStatus(
            name=job.config.name,
            schedule=job.config.describe,
            target=job.config.target,
            paused=job.paused,
            running=job.current is not None,
            next_run=due,
            last_run=job.current or job.last,
        )

    # -- the clock ---------------------------------------------------------------------------

    async def _clock(self, job: _Job) -> None:
        """Sleep until the next due time (plus jitter), then fire; a run due longer ago than
        `misfire_grace` (the process stalled, the machine slept) is recorded as skipped and
        the clock moves on to the next due time from now."""
        while True:
            job.wake.clear()
            if job.paused:
                job.next_due = None
                await job.wake.wait()
                continue
            config = job.config
            if job.next_due is None:
                job.next_due = config.next_after(_now(), job.anchor)
            due = job.next_due
            delay = (due - _now()).total_seconds()
            delay += random.uniform(0, config.jitter) if config.jitter else 0.0
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await job.wake.wait()
                if job.wake.is_set():  # paused, resumed or changed: look again
                    continue
            now = _now()
            late = (now - due).total_seconds() - config.jitter
            if late > config.misfire_grace:
                job.next_due = config.next_after(now, job.anchor)
                grace = config.misfire_grace
                why = f"missed by {late:.0f}s (more than misfire_grace = {grace:g})"
                await self._record(job, self._new(job, "schedule", "skipped"), final=True, why=why)
                continue
            job.next_due = config.next_after(due, job.anchor)
            if await self._leased(job, due):
                await self._fire(job, "schedule")

    async def _leased(self, job: _Job, due: datetime) -> bool:
        """Whether this replica runs the tick due at `due` (always, without a cluster). When
        the lease cannot be asked for (Redis down), it runs: a tick run twice beats one lost."""
        if self.lease is None:
            return True
        try:
            return await self.lease(job.config.name, due)
        except Exception as exc:  # redis-py's connection errors
            logger.warning("job %s: no lease (%s); running it here", job.config.name, exc)
            return True

    # -- runs --------------------------------------------------------------------------------

    def _new(self, job: _Job, trigger: Literal["schedule", "manual"], status: Status) -> RunRecord:
        return RunRecord(
            id=uuid.uuid4().hex,
            job=job.config.name,
            trigger=trigger,
            status=status,
            started_at=_iso(_now()),
            finished_at=None,
            result=None,
            error=None,
        )

    async def _fire(
        self, job: _Job, trigger: Literal["schedule", "manual"]
    ) -> RunRecord | asyncio.Future[RunRecord]:
        """Start a run, or apply the overlap rule when one is going: the record (running or
        skipped), or for a queued run what gives its record when it starts."""
        if job.current is None and not self._closed:
            return await self._start(job, trigger)
        if job.current is not None and job.config.overlap == "queue" and job.queued is None:
            waiting: asyncio.Future[RunRecord] = asyncio.get_running_loop().create_future()
            job.queued = (trigger, waiting)
            return waiting
        why = "the server is stopping" if self._closed else "the previous run is still going"
        if job.current is not None and job.queued is not None:
            why = "a run is already queued behind the one going"
        return await self._record(job, self._new(job, trigger, "skipped"), final=True, why=why)

    async def _start(self, job: _Job, trigger: Literal["schedule", "manual"]) -> RunRecord:
        record = self._new(job, trigger, "running")
        config = job.config
        job.current = record
        if config.run is not None:
            inv = Invocation.create(config.target, {}, caller=CALLER)
        else:
            target = config.workflow or config.tool or config.agent
            assert target is not None
            args = config.args if isinstance(config.args, dict) else {}
            inv = Invocation.create(target, args, caller=CALLER)
        inv.metadata.update(job=config.name, run=record.id)
        self._calls[record.id] = inv
        await self._record(job, record)
        task = asyncio.create_task(self._run(job, record, inv), name=f"llmspell run {record.id}")
        self._runs[record.id] = task
        return record

    async def _run(self, job: _Job, record: RunRecord, inv: Invocation) -> RunRecord:
        config = job.config
        result: Result | None = None
        error: str | None = None
        status: Status = "ok"
        try:
            if config.run is not None:
                script = self._script(config)
                result = await self.runtime.pipeline.gate(script, inv, script.handler)
            else:
                result = await self.runtime.pipeline.invoke(inv)
            status = "error" if result.is_error else "ok"
        except LLMSpellError as exc:
            status = "cancelled" if exc.code == ErrorCode.CANCELLED else "error"
            error = exc.message
        except Exception as exc:  # a run must always be recorded
            status, error = "error", f"{type(exc).__name__}: {exc}"
        plain = None
        if result is not None:
            plain = {
                "text": result.text[:MAX_TEXT],
                "data": result.data,
                "is_error": result.is_error,
            }
        done = replace(record, status=status, finished_at=_iso(_now()), result=plain, error=error)
        try:
            await self._record(job, done, final=True)
        finally:
            self._runs.pop(record.id, None)
            self._calls.pop(record.id, None)
            if job.current is not None and job.current.id == record.id:
                job.current = None
            if job.queued is not None:
                trigger, waiting = job.queued
                job.queued = None
                if not waiting.done():
                    waiting.set_result(await self._start(job, trigger))
        return done

    def _script(self, config: ScheduleConfig) -> Component:
        """A script job as what the gate names (`script:PATH`, kind tool): its file runs in a
        fresh engine, closed when the run ends; what its main chunk returns is the result."""
        assert config.run is not None
        path = Path(config.run)
        path = path if path.is_absolute() else self.base_dir / path
        args = [str(a) for a in config.args or []]

        async def call(inv: Invocation) -> Result:
            loaded = await self.load_script(path, args)
            try:
                return Result.from_plain(loaded.value)
            finally:
                loaded.unload()
                await loaded.aclose()

        return Component(config.target, call, description=f"job {config.name}", source=SCOPE)

    async def _record(
        self, job: _Job, record: RunRecord, *, final: bool = False, why: str | None = None
    ) -> RunRecord:
        """Store the record (a new one first, a finished one in its place), the last `keep`."""
        if why is not None:
            record = replace(record, error=why, finished_at=record.finished_at or _iso(_now()))
        if final:
            job.last = record
        plain = asdict(record)
        keep = job.config.keep

        async def put(records: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
            kept = list(records or [])
            for i, old in enumerate(kept):
                if old["id"] == plain["id"]:
                    kept[i] = plain
                    return kept
            return [plain, *kept][:keep]

        try:
            await self.runtime.state.update(SCOPE, f"runs:{record.job}", put)
        except LLMSpellError:  # a result the store cannot hold: keep the run without its data
            if plain["result"] is not None:
                plain["result"] = {**plain["result"], "data": None}
            await self.runtime.state.update(SCOPE, f"runs:{record.job}", put)
        return record
