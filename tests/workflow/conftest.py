"""A real `llmspell gateway` serving workflows: one defined by a Lua script, one declared in
`llmspell.toml`, and a slow one whose cancellation the tests watch through the gateway's State."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcpserver.conftest import RunningGateway, env, gateway

FLOWS_LUA = """
-- A catalog tool the slow workflow's last step calls: it leaves a mark in State.
Tool.define{
  name = "mark",
  description = "Sets State[key] = true",
  input_schema = {type = "object", properties = {key = {type = "string"}}, required = {"key"}},
  handler = function(args) State.set(args.key, true) return "marked " .. args.key end,
}

Tool.define{
  name = "state_get",
  description = "Reads a State key",
  input_schema = {type = "object", properties = {key = {type = "string"}}, required = {"key"}},
  handler = function(args) return {value = State.get(args.key)} end,
}

Workflow.sequential{
  name = "lua_flow",
  description = "Upper-cases a text, exclaims it, and counts its words (Lua)",
  input_schema = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  steps = {
    {name = "upper", tool = "text-manipulator",
     args = function(ctx) return {operation = "uppercase", text = ctx.input.text} end},
    {name = "exclaim", run = function(ctx) return ctx.steps.upper.text .. "!" end},
    {name = "count", tool = "calculator",
     args = function(ctx) return {expression = tostring(#ctx.steps.exclaim.text) .. " * 2"} end},
  },
  output = function(ctx)
    return ctx.steps.exclaim.text .. " (" .. ctx.steps.count.text .. ")"
  end,
}

Workflow.stream{
  name = "lua_squares",
  description = "Squares 1..n as a stream, each result handed to the caller as it is done",
  input_schema = {type = "object", properties = {n = {type = "integer"}}},
  buffer = 2,
  stream_results = true,
  source = function(emit, ctx) for i = 1, ctx.input.n or 5 do emit(i) end end,
  steps = {{name = "square", run = function(ctx) return tostring(ctx.item * ctx.item) end}},
}

Workflow.sequential{
  name = "lua_slow",
  description = "Marks its start, ticks every 0.1 s (20 times unless told), then marks its end",
  input_schema = {
    type = "object",
    properties = {key = {type = "string"}, ticks = {type = "integer", minimum = 0}},
    required = {"key"},
  },
  steps = {
    {name = "begin", run = function(ctx) State.set(ctx.input.key .. ":begin", true) return "begun" end},
    {name = "nap", run = function(ctx)
      for i = 1, ctx.input.ticks or 20 do
        State.set(ctx.input.key .. ":ticks", i)
        sleep(0.1)
      end
      return "slept"
    end},
    {name = "finish", tool = "mark", args = function(ctx) return {key = ctx.input.key .. ":finish"} end},
  },
}
"""

CONFIG = """
name = "workflow-serving-test"
scripts = ["flows.lua"]

[workflows.config_flow]
description = "Upper-cases a text, hashes it, and counts (config)"
input_schema = { type = "object", properties = { text = { type = "string" } }, required = ["text"] }
steps = [
  { name = "upper", tool = "text-manipulator", args = { operation = "uppercase", text = "${input.text}" } },
  { name = "digest", tool = "hash-calculator", args = { operation = "hash", input = "${steps.upper.text}", algorithm = "sha256" } },
  { name = "sum", tool = "calculator", args = { expression = "40 + 2" } },
]
output = "${steps.upper.text} ${steps.digest.data.digest} ${steps.sum.text}"
"""

SLOW_SECONDS = 2.0
"""How long `lua_slow`'s second step runs (20 ticks of 0.1 s) unless told otherwise."""


@dataclass
class Served:
    gateway: RunningGateway
    config: Path

    @property
    def base(self) -> str:
        return self.gateway.url[: -len("/mcp")]

    def stdio(self) -> StdioServerParameters:
        """`llmspell mcp stdio --config ...`: a fresh process serving the same config."""
        return StdioServerParameters(
            command=sys.executable,
            args=["-m", "llmspell", "mcp", "stdio", "--quiet", "--config", str(self.config)],
            env=env(),
            cwd=str(self.config.parent),
        )


def write_config(where: Path) -> Path:
    (where / "flows.lua").write_text(FLOWS_LUA, encoding="utf-8")
    config = where / "llmspell.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    config = write_config(tmp_path_factory.mktemp("served"))
    with gateway(config=config, cwd=config.parent) as running:
        yield Served(running, config)


@pytest.fixture(params=["http", "stdio"])
def target(request: pytest.FixtureRequest, served: Served) -> Any:
    """Where an `mcp.Client` connects: the module's gateway over Streamable HTTP, or a fresh
    `llmspell mcp stdio` process on the same config."""
    return served.gateway.url if request.param == "http" else served.stdio()


async def state_value(client: Client, key: str) -> Any:
    result = await client.call_tool("state_get", {"key": key})
    assert result.structured_content is not None, result
    return result.structured_content.get("value")
