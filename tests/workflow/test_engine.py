"""The workflow engine on a bare runtime: steps are gated child calls; retries, error policies,
timeouts, cancellation, the parallel joins and the stream's bound behave as documented."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from llmspell.runtime import Component, Identity, Invocation, LLMSpellError, Result, Runtime
from llmspell.runtime.workflow import (
    Branch,
    Conditional,
    Loop,
    Parallel,
    Retry,
    RunContext,
    Sequential,
    Step,
    Stream,
    Workflow,
    component,
)


def runtime_with(*tools: tuple[str, Any]) -> Runtime:
    rt = Runtime()
    for name, fn in tools:

        async def handler(inv: Invocation, fn: Any = fn) -> Result:
            return Result.of(await fn(inv))

        rt.catalog.register(Component(name, handler))
    return rt


def add(rt: Runtime, workflow: Workflow) -> None:
    rt.catalog.register(component(workflow, rt.pipeline))


def statuses(result: Result) -> dict[str, str]:
    return {s["name"]: s["status"] for s in result.data["steps"]}


async def echo(inv: Invocation) -> str:
    return str(inv.arguments.get("text", ""))


async def test_sequential_steps_read_earlier_results_and_record_each_step() -> None:
    rt = runtime_with(("echo", echo))

    async def second(ctx: RunContext) -> dict[str, Any]:
        return {"text": ctx.steps["one"].text + "!"}

    add(
        rt,
        Workflow(
            "wf",
            Sequential(
                (Step("one", "echo", args={"text": "hi"}), Step("two", "echo", args=second))
            ),
        ),
    )
    result = await rt.call("wf")
    assert not result.is_error
    assert result.text == "hi!"
    assert [s["name"] for s in result.data["steps"]] == ["one", "two"]
    assert all(s["status"] == "ok" and s["attempts"] == 1 for s in result.data["steps"])


async def test_a_step_that_fails_twice_then_succeeds_is_retried() -> None:
    calls: list[float] = []

    async def flaky(inv: Invocation) -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RuntimeError(f"boom {len(calls)}")
        return "third time"

    rt = runtime_with(("flaky", flaky))
    add(rt, Workflow("wf", Sequential((Step("s", "flaky", retry=Retry(max=2, backoff=0.05)),))))
    result = await rt.call("wf")
    assert result.text == "third time" and not result.is_error
    assert result.data["steps"][0]["attempts"] == 3
    assert calls[1] - calls[0] >= 0.05 and calls[2] - calls[1] >= 0.1  # backoff doubles


async def test_retries_run_out_and_the_error_names_the_workflow_and_the_step() -> None:
    async def broken(inv: Invocation) -> str:
        raise RuntimeError("disk on fire")

    rt = runtime_with(("broken", broken), ("echo", echo))
    add(
        rt,
        Workflow(
            "wf", Sequential((Step("s", "broken", retry=Retry(max=1)), Step("after", "echo")))
        ),
    )
    result = await rt.call("wf")
    assert result.is_error
    assert result.text.startswith("workflow 'wf' step 's' failed:")
    assert "disk on fire" in result.text
    assert statuses(result) == {"s": "failed", "after": "skipped"}
    assert result.data["steps"][0]["attempts"] == 2


async def test_on_error_continue_keeps_going_and_later_steps_see_the_error() -> None:
    async def broken(inv: Invocation) -> str:
        raise RuntimeError("nope")

    seen: list[bool] = []

    async def check(ctx: RunContext) -> dict[str, Any]:
        seen.append(ctx.steps["bad"].is_error)
        return {"text": "went on"}

    rt = runtime_with(("broken", broken), ("echo", echo))
    add(
        rt,
        Workflow(
            "wf",
            Sequential(
                (Step("bad", "broken", on_error="continue"), Step("next", "echo", args=check))
            ),
        ),
    )
    result = await rt.call("wf")
    assert not result.is_error and result.text == "went on"
    assert seen == [True]
    assert statuses(result) == {"bad": "failed", "next": "ok"}
    assert "workflow 'wf' step 'bad' failed" in result.data["steps"][0]["error"]


async def test_a_fallback_step_answers_for_the_failed_one() -> None:
    async def broken(inv: Invocation) -> str:
        raise RuntimeError("primary down")

    async def use(ctx: RunContext) -> dict[str, Any]:
        return {"text": "got " + ctx.steps["primary"].text}

    rt = runtime_with(("broken", broken), ("echo", echo))
    fallback = Step("backup", "echo", args={"text": "from backup"})
    add(
        rt,
        Workflow(
            "wf",
            Sequential(
                (Step("primary", "broken", on_error=fallback), Step("use", "echo", args=use))
            ),
        ),
    )
    result = await rt.call("wf")
    assert result.text == "got from backup"
    assert statuses(result) == {"primary": "failed", "backup": "ok", "use": "ok"}


async def test_a_step_timeout_stops_the_step_and_names_it() -> None:
    async def slow(inv: Invocation) -> str:
        await asyncio.sleep(5)
        return "late"

    rt = runtime_with(("slow", slow))
    add(rt, Workflow("wf", Sequential((Step("wait", "slow", timeout=0.1),))))
    started = time.monotonic()
    result = await rt.call("wf")
    assert time.monotonic() - started < 2
    assert result.is_error
    assert "workflow 'wf' step 'wait' failed" in result.text and "timed out" in result.text


async def test_steps_pass_the_gate_policy_and_hooks_apply_to_each_step() -> None:
    class DenyEcho:
        def allows(self, caller: Identity, c: Component) -> bool:
            return c.name != "secret"

    rt = runtime_with(("echo", echo), ("secret", echo))
    rt.pipeline.policy = DenyEcho()
    seen: list[str] = []

    async def hook(ctx: dict[str, Any]) -> None:
        seen.append(ctx["component"])

    rt.hooks.register("before_tool", hook)
    add(
        rt, Workflow("wf", Sequential((Step("a", "echo", args={"text": "x"}), Step("b", "secret"))))
    )
    result = await rt.call("wf")
    assert seen == ["echo"]  # the denied step never reached its hooks
    assert result.is_error and "may not call tool 'secret'" in result.text


async def test_cancelling_the_workflow_stops_the_remaining_steps() -> None:
    ran: list[str] = []
    started = asyncio.Event()

    async def slow(inv: Invocation) -> str:
        ran.append("slow")
        started.set()
        await asyncio.sleep(5)
        return "done"

    async def mark(inv: Invocation) -> str:
        ran.append("mark")
        return "marked"

    rt = runtime_with(("slow", slow), ("mark", mark))
    add(rt, Workflow("wf", Sequential((Step("s", "slow"), Step("m", "mark")))))
    inv = Invocation.create("wf")
    call = asyncio.create_task(rt.pipeline.invoke(inv))
    await started.wait()
    inv.cancel.cancel("stop")
    with pytest.raises(LLMSpellError) as failed:
        await call
    assert failed.value.code == "cancelled"
    assert ran == ["slow"]


async def test_progress_is_reported_once_per_step_in_order() -> None:
    rt = runtime_with(("echo", echo))
    add(rt, Workflow("wf", Sequential(tuple(Step(n, "echo") for n in ("a", "b", "c")))))
    heard: list[tuple[float, float | None, str | None]] = []

    async def sink(done: float, total: float | None, message: str | None) -> None:
        heard.append((done, total, message))

    await rt.pipeline.invoke(Invocation.create("wf", progress=sink))
    assert heard == [(1, 3, "step 1/3: a"), (2, 3, "step 2/3: b"), (3, 3, "step 3/3: c")]


async def test_conditional_takes_otherwise_and_fails_clearly_without_it() -> None:
    rt = runtime_with(("echo", echo))

    async def never(ctx: RunContext) -> bool:
        return False

    branches = (
        Branch("never", (Step("x", "echo", args={"text": "no"}),), when=never),
        Branch("else", (Step("y", "echo", args={"text": "otherwise"}),), otherwise=True),
    )
    add(rt, Workflow("c1", Conditional(branches)))
    add(rt, Workflow("c2", Conditional(branches[:1])))
    taken = await rt.call("c1")
    assert taken.text == "otherwise" and taken.data["branch"] == "else"
    missed = await rt.call("c2")
    assert missed.is_error and "workflow 'c2': no branch matched" in missed.text


async def test_loop_stops_at_max_iterations_and_at_a_break() -> None:
    rt = runtime_with(("echo", echo))

    async def forever(ctx: RunContext) -> bool:
        return True

    add(rt, Workflow("spin", Loop((Step("s", "echo"),), while_=forever, max_iterations=7)))
    spun = await rt.call("spin")
    assert spun.data["iterations"] == 7 and spun.data["stopped"] == "max_iterations"

    async def stop_at_three(ctx: RunContext) -> str:
        if ctx.index == 3:
            ctx.break_loop()
        return str(ctx.item)

    add(
        rt,
        Workflow(
            "over", Loop((Step("s", run=stop_at_three), Step("t", "echo")), over=_items(range(10)))
        ),
    )
    over = await rt.call("over")
    assert over.data["iterations"] == 3 and over.data["stopped"] == "break"
    assert [r["text"] for r in over.data["results"]] == ["", "", "2"]  # the break skips `t`


def _items(values: Any) -> Any:
    async def over(ctx: RunContext) -> list[Any]:
        return list(values)

    return over


async def test_parallel_runs_branches_at_once_and_join_any_takes_the_first() -> None:
    async def nap(ctx: RunContext) -> str:
        await asyncio.sleep(0.3 if ctx.input.get("same") else 0.1 * len(ctx.steps))
        return "ok"

    rt = Runtime()
    add(
        rt,
        Workflow("all", Parallel(tuple(Branch(f"b{i}", (Step("s", run=nap),)) for i in range(3)))),
    )
    started = time.monotonic()
    result = await rt.call("all", {"same": True})
    assert time.monotonic() - started < 0.8
    assert set(result.data["branches"]) == {"b0", "b1", "b2"}

    async def fast(ctx: RunContext) -> str:
        return "fast"

    async def slow(ctx: RunContext) -> str:
        await asyncio.sleep(5)
        return "slow"

    add(
        rt,
        Workflow(
            "any",
            Parallel(
                (Branch("f", (Step("s", run=fast),)), Branch("s", (Step("s", run=slow),))),
                join="any",
            ),
        ),
    )
    started = time.monotonic()
    first = await rt.call("any")
    assert time.monotonic() - started < 2
    assert first.text == "fast" and first.data["winner"] == "f"
    assert statuses(first) == {"f/s": "ok", "s/s": "cancelled"}


async def test_fail_fast_cancels_siblings_else_failures_are_collected() -> None:
    finished: list[str] = []

    async def fail(ctx: RunContext) -> str:
        await asyncio.sleep(0.05)
        raise LLMSpellError("component_failed", "bad branch")  # type: ignore[arg-type]

    async def slow(ctx: RunContext) -> str:
        await asyncio.sleep(0.5)
        finished.append("slow")
        return "slow"

    rt = Runtime()
    branches = (
        Branch("bad", (Step("s", run=fail),)),
        Branch("other", (Step("s", run=slow),)),
        Branch("bad2", (Step("s", run=fail),)),
    )
    add(rt, Workflow("ff", Parallel(branches, fail_fast=True)))
    add(rt, Workflow("all", Parallel(branches)))
    fast = await rt.call("ff")
    assert fast.is_error and finished == []
    assert statuses(fast)["other/s"] == "cancelled"
    collected = await rt.call("all")
    assert finished == ["slow"]
    assert collected.is_error and "2 branches failed" in collected.text
    assert "step 'bad/s'" in collected.text and "step 'bad2/s'" in collected.text


async def test_stream_keeps_the_source_within_buffer_plus_in_flight() -> None:
    done = [0]
    ahead = [0]

    async def source(emit: Any, ctx: RunContext) -> None:
        for i in range(1, 2001):
            await emit(i)
            ahead[0] = max(ahead[0], i - done[0])

    async def work(ctx: RunContext) -> int:
        await asyncio.sleep(0)
        done[0] += 1
        return int(ctx.item)

    rt = Runtime()
    add(rt, Workflow("st", Stream(source, (Step("w", run=work),), buffer=4, workers=2)))
    result = await rt.call("st")
    assert result.data["items"] == 2000
    assert 4 <= ahead[0] <= 4 + 2
    assert result.data["steps"][0]["runs"] == 2000


async def test_a_failing_stream_step_stops_the_source() -> None:
    emitted = [0]

    async def source(emit: Any, ctx: RunContext) -> None:
        for i in range(10_000):
            await emit(i)
            emitted[0] += 1

    async def work(ctx: RunContext) -> int:
        if ctx.item == 50:
            raise ValueError("item 50 is bad")
        return 0

    rt = Runtime()
    add(rt, Workflow("st", Stream(source, (Step("w", run=work),), buffer=8)))
    result = await rt.call("st")
    assert result.is_error and "workflow 'st' step 'w' failed" in result.text
    assert "item 50 is bad" in result.text
    assert emitted[0] < 100


async def test_a_last_step_that_failed_with_continue_does_not_fail_the_workflow() -> None:
    async def broken(inv: Invocation) -> str:
        raise RuntimeError("optional extra failed")

    rt = runtime_with(("echo", echo), ("broken", broken))
    add(
        rt,
        Workflow(
            "wf",
            Sequential(
                (
                    Step("a", "echo", args={"text": "x"}),
                    Step("extra", "broken", on_error="continue"),
                )
            ),
        ),
    )
    result = await rt.call("wf")
    assert not result.is_error
    assert statuses(result) == {"a": "ok", "extra": "failed"}
    assert "optional extra failed" in result.text


async def test_a_stream_reports_items_and_can_hand_each_result_to_the_caller() -> None:
    from llmspell.runtime import ArtifactUpdate

    async def source(emit: Any, ctx: RunContext) -> None:
        for i in range(1, 4):
            await emit(i)

    async def square(ctx: RunContext) -> str:
        return str(ctx.item * ctx.item)

    rt = Runtime()
    add(rt, Workflow("quiet", Stream(source, (Step("sq", run=square),))))
    add(rt, Workflow("loud", Stream(source, (Step("sq", run=square),), stream_results=True)))
    heard: list[str | None] = []
    chunks: list[ArtifactUpdate] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        heard.append(message)

    async def updates(update: Any) -> None:
        chunks.append(update)

    await rt.pipeline.invoke(Invocation.create("quiet", progress=progress, updates=updates))
    assert heard == ["item 1", "item 2", "item 3"] and chunks == []
    heard.clear()
    await rt.pipeline.invoke(Invocation.create("loud", progress=progress, updates=updates))
    assert heard == ["item 1: 1", "item 2: 4", "item 3: 9"]
    assert [c.parts[0].text for c in chunks] == ["1", "4", "9"]  # type: ignore[union-attr]
    assert [c.append for c in chunks] == [False, True, True]
    assert len({c.artifact_id for c in chunks}) == 1 and chunks[0].name == "items"


async def test_step_hooks_see_each_step_and_may_change_skip_or_rewrite_it() -> None:
    rt = runtime_with(("echo", echo))
    seen: list[tuple[str, str, Any]] = []

    async def before(ctx: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(("before", ctx["step"], ctx["arguments"]))
        if ctx["step"] == "a":
            return {"action": "modify", "arguments": {"text": "changed"}}
        if ctx["step"] == "b":
            return {"action": "replace", "result": "answered by the hook"}
        if ctx["step"] == "c":
            return {"action": "cancel", "reason": "not this one"}
        return None

    async def after(ctx: dict[str, Any]) -> dict[str, Any]:
        seen.append(("after", ctx["step"], ctx["status"]))
        return {"action": "modify", "result": ctx["result"]["text"].upper()}

    rt.hooks.register("before_step", before, match="wf/*")
    rt.hooks.register("after_step", after, match="wf/*")
    steps = tuple(Step(n, "echo", args={"text": n}, on_error="continue") for n in "abc")
    add(rt, Workflow("wf", Sequential(steps)))
    result = await rt.call("wf")
    assert statuses(result) == {"a": "ok", "b": "ok", "c": "failed"}
    assert [s["attempts"] for s in result.data["steps"]] == [1, 0, 1]
    assert seen == [
        ("before", "a", {"text": "a"}),
        ("after", "a", "ok"),
        ("before", "b", {"text": "b"}),
        ("after", "b", "ok"),
        ("before", "c", {"text": "c"}),
        ("after", "c", "failed"),
    ]
    assert "BEFORE_STEP CANCELLED BY" in result.text  # the continued failure, upper-cased


async def test_step_hooks_change_what_the_step_returns() -> None:
    rt = runtime_with(("echo", echo))

    async def before(ctx: dict[str, Any]) -> dict[str, Any]:
        return {"action": "modify", "arguments": {"text": "changed"}}

    rt.hooks.register("before_step", before)
    add(rt, Workflow("wf", Sequential((Step("a", "echo", args={"text": "original"}),))))
    assert (await rt.call("wf")).text == "changed"
