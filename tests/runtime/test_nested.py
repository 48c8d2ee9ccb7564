"""The calling context flows into nested calls, and prompts/resources pass the same gate."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from llmspell.runtime import (
    Component,
    ErrorCode,
    Identity,
    Invocation,
    LLMSpellError,
    Prompt,
    PromptMessage,
    Resource,
    Result,
    Runtime,
    TextPart,
)
from llmspell.runtime.content import ResourcePart
from llmspell.runtime.invocation import current, nested

UNTRUSTED = Identity("mcp:untrusted")


class DenySecret:
    """Denies every component named `secret*` to mcp:untrusted."""

    def allows(self, caller: Identity, component: Component) -> bool:
        return not (caller == UNTRUSTED and component.name.startswith("secret"))


async def secret(inv: Invocation) -> Result:
    return Result([TextPart("42")])


async def slow(inv: Invocation) -> Result:
    await asyncio.sleep(10)
    return Result([TextPart("late")])


async def wrapper(inv: Invocation) -> Result:
    """Calls `inv.arguments["target"]` the way a script tool or agent would: from inside."""
    try:
        return await RT.get().pipeline.invoke(nested(inv.arguments["target"]))
    except LLMSpellError as exc:
        return Result.error(f"[{exc.code}] {exc.message}")


class _Holder:
    runtime: Runtime | None = None

    def get(self) -> Runtime:
        assert self.runtime is not None
        return self.runtime


RT = _Holder()


@pytest.fixture
def rt() -> Runtime:
    runtime = Runtime(policy=DenySecret())
    for name, handler in (("secret", secret), ("slow", slow), ("wrapper", wrapper)):
        runtime.catalog.register(Component(name, handler))
    RT.runtime = runtime
    return runtime


def test_child_inherits_caller_peer_deadline_and_cancel() -> None:
    parent = Invocation.create("outer", caller=UNTRUSTED, timeout=5)
    parent.peer = object()  # type: ignore[assignment]
    child = parent.child("inner", {"x": 1}, timeout=60)
    assert child.caller is UNTRUSTED and child.peer is parent.peer
    assert child.deadline == parent.deadline, "a child's timeout must never extend the deadline"
    shorter = parent.child("inner", timeout=0.5)
    assert shorter.deadline is not None and parent.deadline is not None
    assert shorter.deadline < parent.deadline
    parent.cancel.cancel("stop")
    assert child.cancel.cancelled and child.cancel.reason == "stop"
    late = parent.child("later")
    assert late.cancel.cancelled, "a child of a cancelled call starts cancelled"


def test_child_cancel_does_not_cancel_parent() -> None:
    parent = Invocation("outer")
    parent.child("inner").cancel.cancel()
    assert not parent.cancel.cancelled


def test_nested_outside_a_call_is_a_local_top_level_call() -> None:
    assert current.get() is None
    inv = nested("calculator", {"expression": "1"}, timeout=1)
    assert inv.caller.subject == "local" and inv.deadline is not None


async def test_nested_call_is_checked_as_the_outer_caller(rt: Runtime) -> None:
    denied = await rt.pipeline.invoke(Invocation("wrapper", {"target": "secret"}, caller=UNTRUSTED))
    assert denied.is_error and "[denied]" in denied.text
    allowed = await rt.pipeline.invoke(Invocation("wrapper", {"target": "secret"}))
    assert not allowed.is_error and allowed.text == "42"


async def test_nested_call_cannot_outlive_its_parent(rt: Runtime) -> None:
    """A nested call running in a task of its own (as a JS engine's host calls do) stops when
    its parent times out: the parent's token is cancelled with the timeout, which reaches the
    child through the link (and its inherited deadline would stop it anyway)."""
    ended: list[tuple[float, str]] = []
    done = asyncio.Event()

    async def detached(inv: Invocation) -> Result:
        async def run() -> None:
            try:
                await rt.pipeline.invoke(nested("slow"))
                ended.append((time.monotonic(), "finished"))
            except LLMSpellError as exc:
                ended.append((time.monotonic(), str(exc.code)))
            done.set()

        await asyncio.shield(asyncio.ensure_future(run()))
        return Result([TextPart("done")])

    rt.catalog.register(Component("detached", detached))
    started = time.monotonic()
    with pytest.raises(LLMSpellError) as info:
        await rt.pipeline.invoke(Invocation.create("detached", timeout=0.3))
    assert info.value.code == ErrorCode.TIMEOUT
    try:
        await asyncio.wait_for(done.wait(), 5)
    except TimeoutError:
        pytest.fail("the nested call was still running 5 s after its parent's 0.3 s deadline")
    at, outcome = ended[0]
    assert outcome == "cancelled" and at - started < 1.5


async def test_nested_call_is_cancelled_with_its_parent(rt: Runtime) -> None:
    """Cancelling the outer call (MCP notifications/cancelled) stops a nested call running in
    a task of its own, through the linked token."""
    inner: list[Invocation] = []
    outcome: list[str] = []
    entered, done = asyncio.Event(), asyncio.Event()

    async def spy(inv: Invocation) -> Result:
        inner.append(inv)
        entered.set()
        return await slow(inv)

    async def detached(inv: Invocation) -> Result:
        async def run() -> None:
            try:
                await rt.pipeline.invoke(nested("spy"))
                outcome.append("finished")
            except LLMSpellError as exc:
                outcome.append(str(exc.code))
            done.set()

        child = asyncio.ensure_future(run())
        await asyncio.sleep(10)
        await child
        return Result([TextPart("done")])

    rt.catalog.register(Component("spy", spy))
    rt.catalog.register(Component("detached", detached))
    outer = Invocation("detached")
    task = asyncio.create_task(rt.pipeline.invoke(outer))
    await asyncio.wait_for(entered.wait(), 5)
    outer.cancel.cancel("client went away")
    with pytest.raises(LLMSpellError) as info:
        await asyncio.wait_for(task, 2)
    assert info.value.code == ErrorCode.CANCELLED
    await asyncio.wait_for(done.wait(), 2)
    assert outcome == ["cancelled"], "the nested call outlived its cancelled parent"
    assert inner[0].cancel.reason == "client went away"


async def test_a_hooks_calls_are_children_of_the_hooked_call(rt: Runtime) -> None:
    outcomes: list[str] = []

    async def audit(ctx: dict[str, Any]) -> None:
        if ctx["component"] == "wrapper":
            try:
                await rt.pipeline.invoke(nested("secret"))
                outcomes.append("called")
            except LLMSpellError as exc:
                outcomes.append(str(exc.code))

    rt.hooks.register("before_tool", audit)
    await rt.pipeline.invoke(Invocation("wrapper", {"target": "secret"}))
    await rt.pipeline.invoke(Invocation("wrapper", {"target": "secret"}, caller=UNTRUSTED))
    assert outcomes == ["called", "denied"]


async def test_prompts_and_resources_pass_the_gate(rt: Runtime) -> None:
    async def render(args: dict[str, str]) -> list[PromptMessage]:
        return [PromptMessage("user", TextPart(f"hi {args.get('who', '')}"))]

    async def read(uri: str, params: dict[str, str]) -> list[ResourcePart]:
        return [ResourcePart(uri, text=params["id"])]

    rt.prompts.register(Prompt("secret_prompt", render))
    rt.prompts.register(Prompt("greeting", render))
    rt.resources.register(Resource("secret://{id}", "secret", read))
    seen: list[tuple[str, str, str]] = []
    rt.pipeline.observers.append(lambda c, inv, s, outcome: seen.append((c.kind, c.name, outcome)))

    messages = await rt.render_prompt(Invocation("greeting", {"who": "ann"}, caller=UNTRUSTED))
    assert messages[0].content == TextPart("hi ann")
    parts = await rt.read_resource(Invocation("secret://7"))
    assert parts[0].text == "7"
    for call in (
        rt.render_prompt(Invocation("secret_prompt", caller=UNTRUSTED)),
        rt.read_resource(Invocation("secret://7", caller=UNTRUSTED)),
    ):
        with pytest.raises(LLMSpellError) as info:
            await call
        assert info.value.code == ErrorCode.DENIED
    assert seen == [("prompt", "greeting", "ok"), ("resource", "secret://{id}", "ok")]


async def test_schema_errors_are_all_reported_most_useful_first(rt: Runtime) -> None:
    schema = {
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
        "additionalProperties": False,
    }
    rt.catalog.register(Component("calc", secret, input_schema=schema))
    with pytest.raises(LLMSpellError) as info:
        await rt.call("calc", {"expr": "1"})
    message = info.value.message
    assert message.startswith("invalid arguments for 'calc' at 'expression': 'expression' is a required property")
    assert "'expr' was unexpected" in message
    assert [e["field"] for e in info.value.data["errors"]] == ["expression", ""]


async def test_cancelling_a_call_cancels_its_task_once(rt: Runtime) -> None:
    """Parent and child often share a task; the task is cancelled once, so once the child's
    cancellation is handled no stray cancel request is left on it (asyncio.timeout and task
    groups read that count)."""
    left: list[int] = []
    entered = asyncio.Event()

    async def spy(inv: Invocation) -> Result:
        entered.set()
        return await slow(inv)

    async def catcher(inv: Invocation) -> Result:
        try:
            await rt.pipeline.invoke(nested("spy"))
        except LLMSpellError:
            task = asyncio.current_task()
            assert task is not None
            left.append(task.cancelling())
        return Result([TextPart("handled")])

    rt.catalog.register(Component("spy", spy))
    rt.catalog.register(Component("catcher", catcher))
    outer = Invocation("catcher")
    task = asyncio.create_task(rt.pipeline.invoke(outer))
    await asyncio.wait_for(entered.wait(), 5)
    outer.cancel.cancel("stop")
    await asyncio.wait_for(task, 2)
    assert left == [0]
