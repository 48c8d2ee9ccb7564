"""A script's `A2A.send` and `agent:execute` pass the pipeline: they fire `before_agent` hooks
and are counted in `/metrics`, in a running gateway that reaches a real remote A2A agent (a
second gateway on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import mcp_types as types
from mcp import Client
from mcpserver.conftest import gateway

SCRIPT = """
local seen = {}
Hook.register("before_agent", function(ctx)
  seen[ctx.component] = (seen[ctx.component] or 0) + 1
end, {name = "count_agents"})

local helper = Agent.create{name = "helper", model = "offline/echo"}

Tool.define{
  name = "ask_remote",
  input_schema = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  handler = function(args) return A2A.send("remote_echo", args.text).text end,
}
Tool.define{
  name = "ask_local",
  input_schema = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  handler = function(args) return helper:execute(args.text).text end,
}
Tool.define{
  name = "agents_seen",
  handler = function() return JSON.encode(seen) end,
}
"""


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_script_agent_calls_fire_hooks_and_count_in_metrics(tmp_path: Path) -> None:
    remote = tmp_path / "remote.toml"
    remote.write_text(
        'builtins = false\n[a2a]\ntask_store = "memory"\n'
        '[[agents]]\nname = "echoer"\nmodel = "offline/echo"\n',
        encoding="utf-8",
    )
    with gateway(config=remote, cwd=tmp_path) as b:
        (tmp_path / "calls.lua").write_text(SCRIPT, encoding="utf-8")
        config = tmp_path / "llmspell.toml"
        config.write_text(
            f"""
builtins = false
scripts = ["calls.lua"]
[a2a]
task_store = "memory"
[a2a_agents.remote_echo]
url = "{b.url[: -len("/mcp")]}/a2a/echoer"
""",
            encoding="utf-8",
        )
        with gateway(config=config, cwd=tmp_path, timeout=60) as a:
            async with Client(a.url) as client:
                remote_reply = await client.call_tool("ask_remote", {"text": "over a2a"})
                local_reply = await client.call_tool("ask_local", {"text": "in process"})
                seen = json.loads(text(await client.call_tool("agents_seen", {})))
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(a.url.replace("/mcp", "/metrics"))).text
    assert not remote_reply.is_error and "over a2a" in text(remote_reply), text(remote_reply)
    assert not local_reply.is_error and "in process" in text(local_reply), text(local_reply)
    assert seen == {"remote_echo": 1, "helper": 1}
    for agent in ("remote_echo", "helper"):
        line = f'llmspell_calls_total{{component="{agent}",kind="agent",outcome="ok"}} 1.0'
        assert line in metrics, f"no {line!r} in /metrics"
