from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llmspell.runtime import (
    CancelToken,
    Component,
    DataPart,
    ErrorCode,
    Identity,
    Invocation,
    LLMSpellError,
    Result,
    Runtime,
    TextPart,
)

SCHEMA = {
    "type": "object",
    "properties": {
        "n": {"type": "integer"},
        "opts": {"type": "object", "properties": {"k": {"type": "string"}}},
    },
    "required": ["n"],
    "additionalProperties": False,
}


async def double(inv: Invocation) -> Result:
    return Result([TextPart(str(inv.arguments["n"] * 2)), DataPart({"n": inv.arguments["n"] * 2})])


@pytest.fixture
def rt() -> Runtime:
    runtime = Runtime()
    runtime.catalog.register(Component("math.double", double, input_schema=SCHEMA))
    return runtime


async def test_call_returns_parts(rt: Runtime) -> None:
    result = await rt.call("math.double", {"n": 21})
    assert result.text == "42"
    assert result.data == {"n": 42}
    assert not result.is_error


async def test_unknown_component_suggests_close_names(rt: Runtime) -> None:
    with pytest.raises(LLMSpellError) as info:
        await rt.call("math.doubel", {"n": 1})
    assert info.value.code == ErrorCode.UNKNOWN_COMPONENT
    assert "did you mean 'math.double'" in info.value.message
    assert info.value.data["suggestions"] == ["math.double"]


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        ({}, "n", "required"),
        ({"n": "x"}, "n", "is not of type 'integer'"),
        ({"n": 1, "extra": True}, "", "Additional properties"),
        ({"n": 1, "opts": {"k": 5}}, "opts/k", "is not of type 'string'"),
    ],
)
async def test_schema_violations_name_the_field(
    rt: Runtime, args: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(LLMSpellError) as info:
        await rt.call("math.double", args)
    assert info.value.code == ErrorCode.INVALID_ARGUMENTS
    assert info.value.data["field"] == field
    assert reason in info.value.message
    if field:
        assert f"at '{field}'" in info.value.message


async def test_component_exception_becomes_component_failed(rt: Runtime) -> None:
    async def broken(inv: Invocation) -> Result:
        raise RuntimeError("disk on fire")

    rt.catalog.register(Component("broken", broken))
    with pytest.raises(LLMSpellError) as info:
        await rt.call("broken")
    assert info.value.code == ErrorCode.COMPONENT_FAILED
    assert "disk on fire" in info.value.message and "'broken'" in info.value.message


async def test_timeout(rt: Runtime) -> None:
    async def slow(inv: Invocation) -> Result:
        await asyncio.sleep(5)
        return Result.of("late")

    rt.catalog.register(Component("slow", slow))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(LLMSpellError) as info:
        await rt.call("slow", timeout=0.05)
    assert info.value.code == ErrorCode.TIMEOUT
    assert loop.time() - started < 1


async def test_cancel_token_stops_a_running_call(rt: Runtime) -> None:
    entered = asyncio.Event()
    cleaned = asyncio.Event()

    async def waits(inv: Invocation) -> Result:
        entered.set()
        try:
            await asyncio.sleep(5)
        finally:
            cleaned.set()
        return Result.of("never")

    rt.catalog.register(Component("waits", waits))
    token = CancelToken()
    call = asyncio.create_task(rt.pipeline.invoke(Invocation("waits", cancel=token)))
    await entered.wait()
    token.cancel("client went away")
    with pytest.raises(LLMSpellError) as info:
        await call
    assert info.value.code == ErrorCode.CANCELLED
    assert "client went away" in info.value.message
    assert cleaned.is_set()
    # the task that ran the call is usable afterwards: cancellation was fully absorbed
    assert not asyncio.current_task().cancelling()  # type: ignore[union-attr]


async def test_hooks_run_in_priority_order_and_modify(rt: Runtime) -> None:
    order: list[str] = []

    def hook(label: str, out: Any = None) -> Any:
        async def fn(ctx: dict[str, Any]) -> Any:
            order.append(label)
            return out(ctx) if callable(out) else out

        return fn

    rt.hooks.register("before_tool", hook("low"), priority="low")
    rt.hooks.register("before_tool", hook("normal-1"))
    rt.hooks.register("before_tool", hook("first"), priority="first")
    rt.hooks.register(
        "before_tool",
        hook(
            "normal-2",
            lambda ctx: {"action": "modify", "arguments": {"n": ctx["arguments"]["n"] + 1}},
        ),
    )
    rt.hooks.register("after_tool", hook("after", {"action": "modify", "result": "replaced"}))
    rt.hooks.register("before_agent", hook("agent-only"))
    result = await rt.call("math.double", {"n": 1})
    assert order == ["first", "normal-1", "normal-2", "low", "after"]
    assert result.text == "replaced"


async def test_hook_modified_arguments_are_revalidated(rt: Runtime) -> None:
    async def corrupt(ctx: dict[str, Any]) -> Any:
        return {"action": "modify", "arguments": {"n": "not a number"}}

    rt.hooks.register("before_tool", corrupt)
    with pytest.raises(LLMSpellError) as info:
        await rt.call("math.double", {"n": 1})
    assert info.value.code == ErrorCode.INVALID_ARGUMENTS


async def test_hook_cancel_and_match(rt: Runtime) -> None:
    async def veto(ctx: dict[str, Any]) -> Any:
        return {"action": "cancel", "reason": "not today"}

    rt.hooks.register("before_tool", veto, match="other.*", name="veto")
    assert (await rt.call("math.double", {"n": 2})).text == "4"
    rt.hooks.register("before_tool", veto, match="math.*", name="veto")
    with pytest.raises(LLMSpellError) as info:
        await rt.call("math.double", {"n": 2})
    assert info.value.code == ErrorCode.CANCELLED
    assert "veto" in info.value.message and "not today" in info.value.message


async def test_bad_hook_point_and_action_are_refused(rt: Runtime) -> None:
    async def nothing(ctx: dict[str, Any]) -> Any:
        return {"action": "explode"}

    with pytest.raises(ValueError, match="unknown hook point"):
        rt.hooks.register("before_everything", nothing)
    rt.hooks.register("before_tool", nothing)
    with pytest.raises(LLMSpellError, match="unknown action 'explode'"):
        await rt.call("math.double", {"n": 2})


async def test_call_events(rt: Runtime) -> None:
    seen: list[tuple[str, Any]] = []

    async def sub(topic: str, data: Any) -> None:
        seen.append((topic, data))

    rt.events.subscribe("call.*", sub)
    await rt.call("math.double", {"n": 1})
    with pytest.raises(LLMSpellError):
        await rt.call("math.double", {"n": "bad"})  # refused before the call: no events

    async def broken(inv: Invocation) -> Result:
        raise RuntimeError("x")

    rt.catalog.register(Component("broken", broken))
    with pytest.raises(LLMSpellError):
        await rt.call("broken")
    topics = [t for t, _ in seen]
    assert topics == ["call.started", "call.finished", "call.started", "call.failed"]
    assert seen[1][1]["component"] == "math.double" and seen[1][1]["duration_ms"] >= 0
    assert seen[3][1]["error"]["code"] == "component_failed"


async def test_failing_subscriber_does_not_stop_delivery(rt: Runtime) -> None:
    got: list[str] = []

    async def bad(topic: str, data: Any) -> None:
        raise RuntimeError("subscriber bug")

    async def good(topic: str, data: Any) -> None:
        got.append(topic)

    rt.events.subscribe("a.*", bad)
    rt.events.subscribe("a.b", good)
    assert await rt.events.publish("a.b", {}) == 2
    assert got == ["a.b"]


async def test_policy_denies(rt: Runtime) -> None:
    class NoMath:
        def allows(self, caller: Identity, component: Component) -> bool:
            return not component.name.startswith("math.")

    rt.pipeline.policy = NoMath()
    with pytest.raises(LLMSpellError) as info:
        await rt.call("math.double", {"n": 1})
    assert info.value.code == ErrorCode.DENIED
    assert "local may not call tool 'math.double'" in info.value.message


async def test_catalog_change_events_and_replacement(rt: Runtime) -> None:
    changes: list[tuple[str, str]] = []
    rt.catalog.on_change(lambda c: changes.append((c.action, c.name)))
    with pytest.raises(ValueError, match="already registered"):
        rt.catalog.register(Component("math.double", double))

    async def triple(inv: Invocation) -> Result:
        return Result.of(inv.arguments["n"] * 3)

    rt.catalog.register(Component("math.double", triple, input_schema=SCHEMA), replace=True)
    assert (await rt.call("math.double", {"n": 2})).data == 6
    rt.catalog.unregister("math.double")
    assert changes == [("replaced", "math.double"), ("removed", "math.double")]


async def test_a_replace_hook_answers_instead_of_the_handler(rt: Runtime) -> None:
    runs: list[int] = []

    async def counted(inv: Invocation) -> Result:
        runs.append(1)
        return Result([TextPart("handler")])

    rt.catalog.register(Component("counted", counted))
    seen_after: list[str] = []

    async def answer(ctx: dict[str, Any]) -> dict[str, Any] | None:
        if ctx["arguments"].get("cached"):
            return {"action": "replace", "result": "from cache"}
        return None

    async def after(ctx: dict[str, Any]) -> None:
        seen_after.append(ctx["result"]["text"])

    rt.hooks.register("before_tool", answer)
    rt.hooks.register("after_tool", after)
    assert (await rt.call("counted", {"cached": True})).text == "from cache"
    assert runs == []
    assert (await rt.call("counted", {})).text == "handler"
    assert runs == [1]
    assert seen_after == ["from cache", "handler"]


async def test_replace_is_refused_where_the_call_returns_its_own_type(rt: Runtime) -> None:
    async def replace(ctx: dict[str, Any]) -> dict[str, Any]:
        return {"action": "replace", "result": "no"}

    async def reply(inv: Invocation) -> str:
        return "an agent's own reply type"

    rt.hooks.register("before_agent", replace)
    agent = Component("bot", double, "agent")
    with pytest.raises(LLMSpellError) as info:
        await rt.pipeline.gate(agent, Invocation.create("bot"), reply)
    assert "only a catalog call can take" in info.value.message
