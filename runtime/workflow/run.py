"""Running a workflow: each step is an ordinary pipeline call, a child of the workflow's call.

A catalog step (tool, agent, workflow, `server.tool`, remote agent) passes the whole gate:
policy, schema, hooks, limits, metrics, deadline, cancellation. An inline step (`run`) is the
workflow's own code, already admitted with it: it gets the deadline, cancellation and error
naming (`Pipeline.bounded`), and what it calls is again a gated child.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..component import Component
from ..content import DataPart, Result, TextPart
from ..errors import ErrorCode, LLMSpellError
from ..hooks import fire
from ..invocation import Invocation
from ..task import ArtifactUpdate
from .context import RunContext, StepRecord
from .model import Branch, Conditional, Fn, Loop, Parallel, Sequential, Step, Stream, Workflow

if TYPE_CHECKING:
    from ..pipeline import Pipeline


class StepFailed(LLMSpellError):
    """A step failed and its `on_error` is "fail": the run stops and the workflow's result is
    an error naming the workflow and the step."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.COMPONENT_FAILED, message)


def component(workflow: Workflow, pipeline: Pipeline) -> Component:
    """The workflow as a catalog component of kind `workflow`."""

    async def handler(inv: Invocation) -> Result:
        return await Run(pipeline, workflow, inv).execute()

    return Component(
        workflow.name,
        handler,
        "workflow",
        workflow.description or f"{workflow.pattern} workflow {workflow.name}",
        dict(workflow.input_schema),
        source=workflow.source,
    )


class Run:
    """One run of a workflow for one invocation."""

    def __init__(self, pipeline: Pipeline, workflow: Workflow, inv: Invocation) -> None:
        self.pipeline = pipeline
        self.workflow = workflow
        self.inv = inv
        self.records: dict[str, StepRecord] = {}
        self.total: int | None = None
        """How many steps this run will report, when that is known in advance."""
        self.done = 0
        self.chunks = 0
        """Items a stream has sent its caller as artifact chunks."""
        self.items_artifact = ""
        self.extra: dict[str, Any] = {}
        """What the pattern adds to the result's data (a loop's iterations, a branch name)."""

    # -- the run -----------------------------------------------------------------------------

    async def execute(self) -> Result:
        ctx = RunContext(dict(self.inv.arguments))
        try:
            last = await self._body(ctx)
            if self.workflow.output is not None:
                value = await self._fn("output", self.workflow.output, ctx)
                last = Result.from_plain(value)
        except StepFailed as exc:
            data = {"steps": self._records(), **self.extra}
            return Result([TextPart(exc.message), DataPart(data)], is_error=True)
        return self._compose(last or Result(), chosen=self.workflow.output is not None)

    async def _body(self, ctx: RunContext) -> Result | None:
        body, scope = self.workflow.body, self.inv
        if isinstance(body, Sequential):
            self.total = len(body.steps)
            return await self._steps(body.steps, ctx, scope)
        if isinstance(body, Conditional):
            return await self._conditional(body, ctx, scope)
        if isinstance(body, Loop):
            return await self._loop(body, ctx, scope)
        if isinstance(body, Parallel):
            return await self._parallel(body, ctx, scope)
        return await self._stream(body, ctx, scope)

    def _compose(self, last: Result, *, chosen: bool) -> Result:
        """The output's parts, with one data part: the output's structured value (`output`),
        every step's record (`steps`) and what the pattern adds. Only a step failing with
        `on_error = "fail"` or an `output` saying so makes the result an error, not a last
        step that failed with `"continue"`."""
        parts = [p for p in last.parts if not isinstance(p, DataPart)]
        data: dict[str, Any] = {}
        if last.data is not None:
            data["output"] = last.data
        data["steps"] = self._records()
        data.update(self.extra)
        return Result([*parts, DataPart(data)], is_error=chosen and last.is_error)

    def _records(self) -> list[dict[str, Any]]:
        return [r.to_plain() for r in self.records.values()]

    # -- steps ---------------------------------------------------------------------------------

    async def _steps(
        self,
        steps: tuple[Step, ...],
        ctx: RunContext,
        scope: Invocation,
        prefix: str = "",
        report: bool = True,
    ) -> Result | None:
        last = None
        for i, step in enumerate(steps):
            try:
                if scope.cancel.cancelled:
                    raise _cancelled(scope)
                last = await self._step(step, ctx, scope, prefix, report)
            except LLMSpellError:
                for rest in steps[i + 1 :]:
                    self.records.setdefault(
                        prefix + rest.name, StepRecord(prefix + rest.name, "skipped")
                    )
                raise
            if ctx.broken:
                break
        return last

    async def _step(
        self, step: Step, ctx: RunContext, scope: Invocation, prefix: str, report: bool = True
    ) -> Result:
        """Run one step with its retries; record it; apply its `on_error`; store its result
        under its name (a fallback's result too, so later steps read it the same way)."""
        label = prefix + step.name
        record = self.records.get(label)
        if record is None:
            record = self.records[label] = StepRecord(label)
        started = time.perf_counter()
        try:
            result, error, attempts = await self._attempts(step, ctx, scope, label)
        except LLMSpellError as exc:
            if scope.cancel.cancelled:
                record.add("cancelled", time.perf_counter() - started, 1, exc.message)
            raise
        elapsed = time.perf_counter() - started
        if error is None:
            record.add("ok", elapsed, attempts, None)
        else:
            message = f"workflow {self.workflow.name!r} step {label!r} failed: {error}"
            record.add("failed", elapsed, attempts, message)
            if isinstance(step.on_error, Step):
                result = await self._step(step.on_error, ctx, scope, prefix, report=False)
            elif step.on_error == "continue":
                result = Result.error(message)
            else:
                raise StepFailed(message)
        hooks = self.pipeline.hooks
        if hooks.wants("after_step"):
            status = "ok" if error is None else "failed"
            fired = await fire(
                hooks,
                "after_step",
                self._hooked(step, label, scope, result=result.to_plain(), status=status),
                f"{self.workflow.name}/{label}",
            )
            result = Result.from_plain(fired.context["result"])
        ctx.steps[step.name] = result
        if report and self.inv.progress is not None:
            self.done += 1
            of = f"/{self.total}" if self.total else ""
            await self.inv.report_progress(self.done, self.total, f"step {self.done}{of}: {label}")
        return result

    async def _attempts(
        self, step: Step, ctx: RunContext, scope: Invocation, label: str
    ) -> tuple[Result, str | None, int]:
        """The step's result, its error (None when it succeeded) and how many attempts it
        took. Its arguments are worked out once; `before_step` hooks see them first and may
        change them, cancel the step (a failure) or answer for it."""
        try:
            arguments = await self._arguments(step, ctx) if step.target is not None else {}
            hooks = self.pipeline.hooks
            if hooks.wants("before_step"):
                fired = await fire(
                    hooks,
                    "before_step",
                    self._hooked(step, label, scope, arguments=arguments),
                    f"{self.workflow.name}/{label}",
                )
                if fired.replaced:
                    return Result.from_plain(fired.result), None, 0
                if isinstance(fired.context.get("arguments"), dict):
                    arguments = fired.context["arguments"]
        except LLMSpellError as exc:
            if scope.cancel.cancelled:
                raise
            return Result.error(exc.message), exc.message, 1
        attempts = 0
        while True:
            attempts += 1
            try:
                result = await self._attempt(step, ctx, scope, label, arguments)
                error = (result.text or "the step returned an error") if result.is_error else None
            except LLMSpellError as exc:
                if scope.cancel.cancelled:
                    raise
                result, error = Result.error(exc.message), exc.message
            if error is None or attempts > step.retry.max:
                return result, error, attempts
            await asyncio.sleep(step.retry.delay(attempts + 1))

    def _hooked(self, step: Step, label: str, scope: Invocation, **more: Any) -> dict[str, Any]:
        """A step hook's context: the workflow, the step, its target, the caller."""
        return {
            "workflow": self.workflow.name,
            "step": label,
            "target": step.target,
            "caller": scope.caller.subject,
            **more,
        }

    async def _attempt(
        self, step: Step, ctx: RunContext, scope: Invocation, label: str, arguments: dict[str, Any]
    ) -> Result:
        if step.target is not None:
            return await self.pipeline.invoke(
                scope.child(step.target, arguments, timeout=step.timeout)
            )
        run = step.run
        assert run is not None
        name = f"{self.workflow.name}/{label}"
        inline = Component(name, _inline, "workflow", source=self.workflow.source)

        async def call(inv: Invocation) -> Result:
            return Result.from_plain(await run(ctx))

        return await self.pipeline.bounded(inline, scope.child(name, timeout=step.timeout), call)

    async def _arguments(self, step: Step, ctx: RunContext) -> dict[str, Any]:
        args: Any = step.args
        if callable(args):
            args = await args(ctx)
        if args is None or args == []:
            return {}
        if isinstance(args, str):
            return {"text": args}
        if not isinstance(args, Mapping):
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"arguments must be a table/object or a string, not {type(args).__name__}",
            )
        return dict(args)

    async def _fn(self, what: str, fn: Fn, ctx: RunContext) -> Any:
        """A function of the workflow's own (a predicate, a list, the output): its failure is
        the workflow's, named."""
        try:
            return await fn(ctx)
        except LLMSpellError as exc:
            if self.inv.cancel.cancelled:
                raise
            raise StepFailed(
                f"workflow {self.workflow.name!r} {what} failed: {exc.message}"
            ) from exc

    # -- patterns ------------------------------------------------------------------------------

    async def _conditional(
        self, body: Conditional, ctx: RunContext, scope: Invocation
    ) -> Result | None:
        chosen: Branch | None = None
        for branch in body.branches:
            if branch.when is not None and _truthy(
                await self._fn(f"branch {branch.name!r} condition", branch.when, ctx)
            ):
                chosen = branch
                break
        if chosen is None:
            chosen = next((b for b in body.branches if b.otherwise), None)
        if chosen is None:
            raise StepFailed(
                f"workflow {self.workflow.name!r}: no branch matched and there is no otherwise"
            )
        self.extra["branch"] = chosen.name
        self.total = len(chosen.steps)
        return await self._steps(chosen.steps, ctx, scope)

    async def _loop(self, body: Loop, ctx: RunContext, scope: Invocation) -> Result | None:
        items: list[Any] | None = None
        if body.over is not None:
            over = await self._fn("loop list", body.over, ctx)
            if over is None or over == {}:
                over = []
            if not isinstance(over, list):
                raise StepFailed(
                    f"workflow {self.workflow.name!r}: `over` must give a list, "
                    f"not {type(over).__name__}"
                )
            items = over
            self.total = min(len(items), body.max_iterations) * len(body.steps)
        results: list[Result] = []
        ctx.results = results
        stopped = "end"
        while True:
            if items is not None and len(results) >= len(items):
                break
            if (
                items is None
                and body.while_ is not None
                and not _truthy(await self._fn("loop condition", body.while_, ctx))
            ):
                break
            if len(results) >= body.max_iterations:
                stopped = "max_iterations"
                break
            index = len(results) + 1
            turn = ctx.fork(item=items[index - 1] if items is not None else None, index=index)
            last = await self._steps(body.steps, turn, scope)
            results.append(last or Result())
            ctx.steps.update(turn.steps)
            if turn.broken:
                stopped = "break"
                break
        self.extra["iterations"] = len(results)
        self.extra["stopped"] = stopped
        self.extra["results"] = [_brief(r) for r in results]
        return results[-1] if results else None

    async def _parallel(self, body: Parallel, ctx: RunContext, scope: Invocation) -> Result | None:
        self.total = sum(len(b.steps) for b in body.branches)
        limit = asyncio.Semaphore(body.max_concurrency or len(body.branches) or 1)
        scopes = {b.name: scope.child(f"{self.workflow.name}/{b.name}") for b in body.branches}
        results: dict[str, Result] = {}

        async def branch(b: Branch) -> Result | None:
            async with limit:
                return await self._steps(b.steps, ctx.fork(), scopes[b.name], f"{b.name}/")

        tasks = {asyncio.create_task(branch(b)): b for b in body.branches}
        pending = set(tasks)
        failures: list[str] = []
        winner: str | None = None
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    name = tasks[task].name
                    failure = None if task.cancelled() else task.exception()
                    if task.cancelled() or (failure is not None and scopes[name].cancel.cancelled):
                        continue
                    if isinstance(failure, StepFailed):
                        failures.append(failure.message)
                        if body.fail_fast:
                            _cancel_all(scopes, pending, tasks, "a sibling branch failed")
                        continue
                    if failure is not None:
                        raise failure
                    results[name] = ctx.steps[name] = task.result() or Result()
                    if body.join == "any" and winner is None:
                        winner = name
                        _cancel_all(scopes, pending, tasks, f"branch {name!r} answered first")
        finally:
            for task in pending:
                scopes[tasks[task].name].cancel.cancel("the workflow stopped")
            if pending:
                await asyncio.wait(pending)
        if body.join == "any":
            if winner is None:
                raise StepFailed(_joined(self.workflow.name, failures or ["every branch failed"]))
            self.extra["winner"] = winner
            return results[winner]
        if failures:
            raise StepFailed(_joined(self.workflow.name, failures))
        ordered = [results[b.name] for b in body.branches if b.name in results]
        self.extra["branches"] = {b.name: _brief(results[b.name]) for b in body.branches}
        text = "\n".join(r.text for r in ordered if r.text)
        return Result([TextPart(text)] if text else [])

    async def _stream(self, body: Stream, ctx: RunContext, scope: Invocation) -> Result | None:
        self.items_artifact = uuid.uuid4().hex
        queue: asyncio.Queue[Any] = asyncio.Queue(body.buffer)
        end = object()
        counts = {"emitted": 0, "processed": 0}
        last: list[Result | None] = [None]
        name = f"{self.workflow.name}/source"
        source = Component(name, _inline, "workflow", source=self.workflow.source)

        async def emit(item: Any) -> None:
            await queue.put(item)
            counts["emitted"] += 1

        async def produce(inv: Invocation) -> None:
            await body.source(emit, ctx)

        async def producer() -> None:
            try:
                await self.pipeline.bounded(source, scope.child(name), produce)
            except LLMSpellError as exc:
                if scope.cancel.cancelled:
                    raise
                raise StepFailed(
                    f"workflow {self.workflow.name!r} source failed: {exc.message}"
                ) from exc
            for _ in range(body.workers):
                await queue.put(end)

        async def consumer() -> None:
            while (item := await queue.get()) is not end:
                counts["processed"] += 1
                turn = ctx.fork(item=item, index=counts["processed"])
                last[0] = await self._steps(body.steps, turn, scope, report=False)
                await self._item_done(turn.index or 0, last[0], body.stream_results)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(producer())
                for _ in range(max(1, body.workers)):
                    group.create_task(consumer())
        except BaseExceptionGroup as group_error:
            raise _first(group_error) from None
        self.extra["items"] = counts["processed"]
        return last[0]

    async def _item_done(self, index: int, result: Result | None, deliver: bool) -> None:
        """A stream reports items, not steps (a step per item would flood the caller); with
        `stream_results` the item's result goes along: an artifact chunk for a caller that
        tracks tasks (A2A), the progress text for one that does not (MCP)."""
        if deliver and result is not None and self.inv.updates is not None:
            chunk = ArtifactUpdate(
                result.parts, self.items_artifact, "items", append=self.chunks > 0
            )
            self.chunks += 1
            await self.inv.updates(chunk)
        if self.inv.progress is not None:
            self.done += 1
            said = result.text if deliver and result is not None else ""
            await self.inv.report_progress(
                self.done, None, f"item {index}: {said}" if said else f"item {index}"
            )


def _truthy(value: Any) -> bool:
    """Lua's truth with JS's falsy values: nil/null, false, 0, "" are false."""
    return value not in (None, False, 0, "") and value != [] and value != {}


def _brief(result: Result) -> dict[str, Any]:
    return {"text": result.text, "data": result.data, "is_error": result.is_error}


def _joined(workflow: str, failures: list[str]) -> str:
    if len(failures) == 1:
        return failures[0]
    return f"workflow {workflow!r}: {len(failures)} branches failed: " + "; ".join(failures)


def _cancel_all(
    scopes: dict[str, Invocation],
    pending: set[asyncio.Task[Any]],
    tasks: dict[asyncio.Task[Any], Branch],
    reason: str,
) -> None:
    for task in pending:
        scopes[tasks[task].name].cancel.cancel(reason)


def _cancelled(scope: Invocation) -> LLMSpellError:
    reason = f": {scope.cancel.reason}" if scope.cancel.reason else ""
    return LLMSpellError(ErrorCode.CANCELLED, f"{scope.name!r} was cancelled{reason}")


def _first(group: BaseExceptionGroup[Any]) -> BaseException:
    """The error that stopped a stream: a step's or the source's, before the cancellations it
    caused in the other tasks."""
    flat: list[BaseException] = []

    def walk(g: BaseExceptionGroup[Any]) -> None:
        for e in g.exceptions:
            if isinstance(e, BaseExceptionGroup):
                walk(e)
            else:
                flat.append(e)

    walk(group)
    for kind in (StepFailed, LLMSpellError):
        for exc in flat:
            if isinstance(exc, kind):
                return exc
    return flat[0]


async def _inline(inv: Invocation) -> Result:
    raise AssertionError("an inline step runs through Pipeline.bounded, not as a handler")
