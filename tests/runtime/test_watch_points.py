"""Watch points (no modify, cancel or replace) log a failing hook and go on; points that can
change the call fail it."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from llmspell.runtime import ErrorCode, LLMSpellError, Runtime
from llmspell.runtime.hooks import SPECS


def test_watch_points_are_exactly_those_without_actions() -> None:
    watching = {name for name, spec in SPECS.items() if spec.watches}
    assert "state_write" in watching and "gateway_start" in watching and "error" in watching
    assert "before_tool" not in watching and "after_llm" not in watching


async def test_a_failing_hook_at_a_watch_point_is_logged_and_the_write_lands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rt = Runtime()
    seen: list[str] = []

    async def broken(ctx: dict[str, Any]) -> None:
        raise RuntimeError("audit sink down")

    async def after(ctx: dict[str, Any]) -> None:
        seen.append(ctx["key"])

    rt.hooks.register("state_write", broken, name="audit")
    rt.hooks.register("state_write", after, priority="low")
    with caplog.at_level(logging.WARNING, logger="llmspell.hooks"):
        await rt.state.set("global", "k", 1)
    assert await rt.state.get("global", "k") == 1
    assert seen == ["k"]  # the next hook still ran
    assert "hook audit at state_write failed: audit sink down" in caplog.text


async def test_a_failing_hook_at_a_call_point_fails_the_call() -> None:
    rt = Runtime()

    async def broken(ctx: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    async def handler(inv: Any) -> str:
        return "ran"

    from llmspell.runtime import Component

    rt.catalog.register(Component("t", handler))
    rt.hooks.register("before_tool", broken, name="guard")
    with pytest.raises(LLMSpellError) as info:
        await rt.call("t", {})
    assert info.value.code == ErrorCode.COMPONENT_FAILED
    assert "guard at before_tool failed: boom" in info.value.message
