"""Every hook point fires in a real gateway, in order, with its documented context: a Lua
script registers a recorder at each point and logs what it saw; MCP and A2A clients drive a
tool, an agent, a workflow over a federated MCP tool and a remote A2A agent, a failure and a
session; the gateway's stop is seen last."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from llmspell.runtime.hooks import SPECS
from mcp import Client
from mcpserver.conftest import a2a_peer, free_port, gateway, peers, py_peer

RECORDER = """
local points = {%s}
for _, point in ipairs(points) do
  Hook.register(point, function(ctx) Log.info("HOOK " .. JSON.encode(ctx)) end)
end
Tool.define{name = "remember", handler = function(args) State.set("k", args.v) return "ok" end}
"""

CONFIG = """
name = "hook-points"
scripts = ["hooks.lua"]

[mcpServers.py]
url = "{mcp_url}"

[a2a_agents.peer]
url = "{a2a_url}"

[[agents]]
name = "assistant"
model = "offline/demo"
tools = ["calculator"]

[workflows.flow]
steps = [
  {{ name = "echo", tool = "py.echo", args = {{ message = "hi" }} }},
  {{ name = "remote", agent = "peer", args = "${{steps.echo.text}}" }},
]
"""


def seen(log: str) -> list[dict[str, Any]]:
    return [json.loads(line.split("HOOK ", 1)[1]) for line in log.splitlines() if "HOOK {" in line]


async def test_every_point_fires_with_its_documented_context(tmp_path: Path) -> None:
    points = list(SPECS)
    (tmp_path / "hooks.lua").write_text(
        RECORDER % ", ".join(f'"{p}"' for p in points), encoding="utf-8"
    )
    with peers(py_peer(free_port()), a2a_peer(free_port())) as (mcp_peer, agent_peer):
        config = tmp_path / "llmspell.toml"
        a2a_url = f"http://127.0.0.1:{agent_peer.port}"
        config.write_text(CONFIG.format(mcp_url=mcp_peer.url, a2a_url=a2a_url), encoding="utf-8")
        with gateway(config=config, cwd=tmp_path) as running:
            async with Client(running.url) as client:
                assert not (await client.call_tool("calculator", {"expression": "2 + 3"})).is_error
                assert not (await client.call_tool("assistant", {"text": "hello"})).is_error
                flow = await client.call_tool("flow", {})
                assert not flow.is_error, flow
                failed = await client.call_tool("calculator", {"expression": "2 +"})
                assert failed.is_error
                assert not (await client.call_tool("remember", {"v": 7})).is_error
            async with Client(running.url, mode="legacy") as session:  # one with a session
                await session.list_tools()
            base = running.url[: -len("/mcp")]
            async with httpx.AsyncClient(timeout=30) as http:
                reply = await http.post(
                    f"{base}/a2a/calculator/",
                    json={
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "SendMessage",
                        "params": {
                            "message": {
                                "messageId": "m1",
                                "role": "ROLE_USER",
                                "parts": [{"text": "1 + 1"}],
                            }
                        },
                    },
                    headers={"A2A-Version": "1.0"},
                )
                assert reply.status_code == 200, reply.text
            running.process.terminate()
            running.process.wait(15)
            log = running.output()
    events = seen(log)
    fired = [e["point"] for e in events]
    missing = set(points) - set(fired)
    assert not missing, f"never fired: {sorted(missing)}\n{log[-3000:]}"
    for event in events:
        documented = set(SPECS[event["point"]].payload)
        assert documented <= set(event) | {"caller"}, (event["point"], sorted(event))

    def first(point: str, **where: Any) -> int:
        return next(
            i
            for i, e in enumerate(events)
            if e["point"] == point and all(e.get(k) == v for k, v in where.items())
        )

    assert first("script_load") < first("gateway_start") < first("mcp_session_open")
    assert fired[-1] == "gateway_stop"
    assert first("before_tool", component="calculator") < first(
        "after_tool", component="calculator"
    )
    assert first("before_workflow", component="flow") < first("before_step", step="echo")
    assert first("before_step", step="echo") < first("before_upstream", server="py", tool="echo")
    assert first("after_upstream", server="py") < first("after_step", step="echo")
    assert first("before_step", step="remote") < first("before_a2a_send", agent="peer")
    assert first("after_a2a_send", agent="peer") < first("after_step", step="remote")
    assert first("after_step", step="remote") < first("after_workflow", component="flow")
    assert events[first("error", component="calculator")]["error"]["code"] == "invalid_arguments"
    assert first("mcp_session_open") < first("mcp_session_close")
    states = [e["state"] for e in events if e["point"] == "a2a_task_state"]
    assert states[0] == "working" and states[-1] == "completed"
    upstream = events[first("before_upstream")]
    mcp_caller = events[first("before_tool", component="calculator")]["caller"]
    assert upstream["arguments"] == {"message": "hi"} and upstream["caller"] == mcp_caller
    changed = {e["name"] for e in events if e["point"] == "catalog_change"}
    assert {"assistant", "flow"} <= changed  # registered after the script that watches
    asked = events[first("before_llm", agent="assistant")]
    assert asked["messages"][-1] == {"role": "user", "text": "hello"} and asked["tools"]
    assert first("before_llm") < first("after_llm") < first("after_agent", component="assistant")
    wrote = events[first("state_write")]
    assert (wrote["scope"], wrote["key"], wrote["op"]) == ("script:hooks.lua", "k", "set")
