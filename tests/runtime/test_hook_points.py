"""The generic hook points (`hooks.fire`): what a hook may do at each point is declared, not
coded; anything else is refused by name; each point publishes `hook.<point>`."""

from __future__ import annotations

from typing import Any

import pytest
from llmspell.runtime import LLMSpellError, Runtime
from llmspell.runtime.hooks import POINTS, SPECS, fire


def test_there_are_twenty_plus_documented_points() -> None:
    assert len(POINTS) >= 20
    for spec in SPECS.values():
        assert spec.when and spec.payload
        assert set(spec.modifies) <= set(spec.payload) | {"result", "arguments"}


async def test_modify_only_touches_the_keys_the_point_names() -> None:
    rt = Runtime()

    async def hook(ctx: dict[str, Any]) -> dict[str, Any]:
        return {"action": "modify", "messages": ["changed"], "model": "sneaky"}

    rt.hooks.register("before_llm", hook)
    fired = await fire(rt.hooks, "before_llm", {"agent": "a", "model": "m", "messages": ["hi"]})
    assert fired.context["messages"] == ["changed"]
    assert fired.context["model"] == "m"
    assert not fired.replaced


async def test_replace_and_cancel_where_allowed_and_refused_elsewhere() -> None:
    rt = Runtime()

    async def replace(ctx: dict[str, Any]) -> dict[str, Any]:
        return {"action": "replace", "result": {"text": "canned"}}

    async def cancel(ctx: dict[str, Any]) -> dict[str, Any]:
        return {"action": "cancel", "reason": "not now"}

    rt.hooks.register("before_upstream", replace, match="github")
    fired = await fire(rt.hooks, "before_upstream", {"server": "github"}, subject="github")
    assert fired.replaced and fired.result == {"text": "canned"}
    untouched = await fire(rt.hooks, "before_upstream", {"server": "other"}, subject="other")
    assert not untouched.replaced

    rt.hooks.register("before_a2a_send", cancel)
    with pytest.raises(LLMSpellError) as stopped:
        await fire(rt.hooks, "before_a2a_send", {"agent": "peer"})
    assert stopped.value.code == "cancelled" and "not now" in stopped.value.message

    rt.hooks.register("catalog_change", cancel)
    with pytest.raises(LLMSpellError) as refused:
        await fire(rt.hooks, "catalog_change", {"action": "added", "name": "x", "kind": "tool"})
    assert "which catalog_change does not take" in refused.value.message


async def test_each_point_publishes_its_event() -> None:
    rt = Runtime()
    seen: list[tuple[str, Any]] = []

    async def listen(topic: str, data: Any) -> None:
        seen.append((topic, data))

    rt.events.subscribe("hook.*", listen)
    assert rt.hooks.wants("state_write")
    await fire(rt.hooks, "state_write", {"scope": "global", "key": "k", "op": "set"})
    for _ in range(3):  # delivery may be queued
        if seen:
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert seen == [
        ("hook.state_write", {"point": "state_write", "scope": "global", "key": "k", "op": "set"})
    ]


def test_an_unwatched_point_is_not_wanted() -> None:
    assert not Runtime().hooks.wants("state_write")


def test_docs_list_every_point_as_declared() -> None:
    """docs/hooks.md is the table of SPECS: a point added or changed without its row fails."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "hooks.md").read_text(encoding="utf-8")
    for spec in SPECS.values():
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{spec.name}` |")), "")
        assert row, f"docs/hooks.md has no row for {spec.name}"
        assert spec.when in row
        assert all(f"`{k}`" in row for k in (*spec.payload, *spec.modifies))
