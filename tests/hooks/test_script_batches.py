"""A script engine runs its neighbouring hooks at a point in one entry (`HookBatch`): the
order with other hooks in between, a modify seen by the next hook, a failure reported at the
failing hook's line, and in-place edits that leak neither into the call nor into the next."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from llmspell.runtime import LLMSpellError

import llmspell

SCRIPT = """
order = {}
seen = {}
local function note(tag) return function(ctx) table.insert(order, tag) end end
Hook.register("before_tool", note("lua-first"), {priority = "first", match = "calculator"})
Hook.register("before_tool", function(ctx)
  table.insert(order, "lua-high")
  return {action = "modify", arguments = {expression = ctx.arguments.expression .. " + 1"}}
end, {priority = "high", match = "calculator"})
Hook.register("before_tool", function(ctx)
  table.insert(order, "lua-normal")
  table.insert(seen, ctx.arguments.expression)
  ctx.arguments.expression = "1000"  -- edited in place, not returned: no effect on the call
  ctx.component = "elsewhere"
end, {priority = "normal", match = "calculator"})
Hook.register("before_tool", function(ctx)
  table.insert(order, "lua-last")
  table.insert(seen, ctx.component)
  if ctx.arguments.expression == "0 + 1" then error("zero is refused here") end
end, {priority = "last", match = "calculator", name = "guard"})
Hook.register("after_tool", function(ctx)
  ctx.extra = "added"
  ctx.caller = nil
  local keys = {}
  for k in pairs(ctx) do table.insert(keys, k) end
  table.sort(keys)
  whole = table.concat(keys, " ") .. "|" .. JSON.encode(ctx)
end, {match = "calculator"})
Tool.define{name = "lua.whole", handler = function() return whole end}
Tool.define{name = "lua.report", handler = function()
  local out = table.concat(order, ",") .. "|" .. table.concat(seen, ",")
  order, seen = {}, {}
  return out
end}
"""


@pytest.fixture
async def runtime(tmp_path: Path) -> Any:
    (tmp_path / "hooks.lua").write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    config = {"scripts": [str(tmp_path / "hooks.lua")], "a2a": {"enabled": False}}
    async with llmspell.Runtime.create(["calculator"], config=config) as rt:
        order: list[str] = []

        async def python_hook(ctx: dict[str, Any]) -> None:
            order.append("python-low")

        rt.core.hooks.register("before_tool", python_hook, priority="low", match="calculator")
        rt.python_order = order  # type: ignore[attr-defined]
        yield rt


async def test_lua_hooks_run_in_order_around_a_python_hook(runtime: Any) -> None:
    hooks = runtime.core.hooks.for_point("before_tool", "calculator")
    batches = [h.batch for h in hooks]
    assert batches[0] is not None and batches[:3] == [batches[0]] * 3 and batches[3] is None

    result = await runtime.call("calculator", {"expression": "6*7"})
    assert result.text == "43"  # the modify of lua-high counts, the in-place edit does not
    report = (await runtime.call("lua.report")).text
    assert report == "lua-first,lua-high,lua-normal,lua-last|6*7 + 1,calculator"
    assert runtime.python_order == ["python-low"]


async def test_the_next_call_sees_its_own_context(runtime: Any) -> None:
    for _ in range(3):  # the context is memoised by content: in-place edits must not stick
        assert (await runtime.call("calculator", {"expression": "2*3"})).text == "7"
    report = (await runtime.call("lua.report")).text
    assert report.split("|")[1] == "2*3 + 1,calculator,2*3 + 1,calculator,2*3 + 1,calculator"


async def test_a_failing_hook_in_a_batch_is_named_with_its_line(runtime: Any) -> None:
    with pytest.raises(LLMSpellError) as caught:
        await runtime.call("calculator", {"expression": "0"})
    line = (
        textwrap.dedent(SCRIPT)
        .splitlines()
        .index('  if ctx.arguments.expression == "0 + 1" then error("zero is refused here") end')
    )
    assert str(caught.value).endswith(f"hooks.lua:{line + 1}: zero is refused here")
    assert runtime.python_order == ["python-low"]  # it runs between the batch and the guard
    report = (await runtime.call("lua.report")).text
    assert report.startswith("lua-first,lua-high,lua-normal,lua-last|")


async def test_a_context_is_whole_to_pairs_and_to_the_host(runtime: Any) -> None:
    """A hook's context is filled in as it is read; pairs() and a host function (JSON.encode)
    still see every key, with the hook's own additions and deletions."""
    await runtime.call("calculator", {"expression": "6*7"})
    keys, encoded = (await runtime.call("lua.whole")).text.split("|", 1)
    assert keys == "arguments component extra kind point result"
    seen = json.loads(encoded)
    assert seen["extra"] == "added" and "caller" not in seen
    assert seen["arguments"] == {"expression": "6*7 + 1"}
    assert seen["result"]["text"] == "43" and seen["point"] == "after_tool"
