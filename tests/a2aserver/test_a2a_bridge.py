"""Two gateways on loopback, A and B. B hosts an agent; A reaches it over A2A and serves it as
an MCP tool (updates as progress). A federates server-everything over MCP and serves its tools
as A2A skills. Scripts on A2A (Lua and JS) delegate to B and stream its updates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mcp_types as types
import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_text_message
from a2a.types import Role, SendMessageRequest, TaskState
from mcp import Client
from mcpserver.conftest import EVERYTHING, NODE, RunningGateway, gateway, llmspell


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningGateway, RunningGateway]]:
    tmp = tmp_path_factory.mktemp("bridge")
    b_config = tmp / "b.toml"
    b_config.write_text(
        'name = "gateway-b"\nbuiltins = false\n[a2a]\ntask_store = "memory"\n'
        '[[agents]]\nname = "echoer"\nmodel = "offline/echo"\ndescription = "Repeats"\n',
        encoding="utf-8",
    )
    with gateway(config=b_config, cwd=tmp) as b:
        b_agent = b.url[: -len("/mcp")] + "/a2a/echoer"
        a_config = tmp / "a.toml"
        a_config.write_text(
            f"""
name = "gateway-a"
builtins = false
[a2a]
task_store = "memory"
[a2a_agents.remote_echo]
url = "{b_agent}"
[mcpServers.everything]
command = "{NODE}"
args = ["{EVERYTHING}", "stdio"]
include = ["echo"]
""",
            encoding="utf-8",
        )
        with gateway(config=a_config, cwd=tmp, timeout=60) as a:
            yield a, b


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_remote_a2a_agent_is_an_mcp_tool_with_progress(
    pair: tuple[RunningGateway, RunningGateway],
) -> None:
    a, _ = pair
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with Client(a.url) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "remote_echo" in tools and "Repeats" in (tools["remote_echo"].description or "")
        result = await client.call_tool(
            "remote_echo", {"text": "across two gateways"}, progress_callback=on_progress
        )
    assert not result.is_error, text(result)
    assert "echo: across two gateways" in text(result)
    assert seen and all(m for m in seen)  # B's working updates, as MCP progress


async def test_federated_mcp_tool_is_an_a2a_skill(
    pair: tuple[RunningGateway, RunningGateway],
) -> None:
    a, _ = pair
    client = await create_client(
        a.url[: -len("/mcp")] + "/a2a/everything.echo", ClientConfig(streaming=True)
    )
    events = [
        e
        async for e in client.send_message(
            SendMessageRequest(message=new_text_message("skill call", role=Role.ROLE_USER))
        )
    ]
    await client.close()
    final = events[-1]
    assert final.status_update.status.state == TaskState.TASK_STATE_COMPLETED
    artifacts = [
        e.artifact_update.artifact for e in events if e.WhichOneof("payload") == "artifact_update"
    ]
    assert artifacts[0].parts[0].text == "Echo: skill call"


@pytest.mark.parametrize("language", ["lua", "js"])
def test_scripts_delegate_to_a_remote_agent_and_stream(
    pair: tuple[RunningGateway, RunningGateway], tmp_path: Path, language: str
) -> None:
    _, b = pair
    url = b.url[: -len("/mcp")] + "/a2a/echoer"
    script = tmp_path / f"delegate.{language}"
    if language == "lua":
        script.write_text(
            """
local found = A2A.discover(ARGS[1])
print("discovered", found.name, found.card.name)
local updates = 0
local reply = A2A.send(found.name, "stream me", {stream = true, on_update = function(u)
  if u.status_text then updates = updates + 1 end
end})
print(reply.state, reply.text, updates > 0)
local task = A2A.get_task(found.name, reply.task_id)
print(task.status.state)
""",
            encoding="utf-8",
        )
    else:
        script.write_text(
            """
const found = await A2A.discover(ARGS[0]);
print("discovered", found.name, found.card.name);
let updates = 0;
const reply = await A2A.send(found.name, "stream me", { stream: true, on_update: (u) => {
  if (u.status_text) updates += 1;
} });
print(reply.state, reply.text, updates > 0);
const task = await A2A.get_task(found.name, reply.task_id);
print(task.status.state);
""",
            encoding="utf-8",
        )
    run = llmspell("run", str(script), "--", url)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "discovered\techoer\techoer",
        "completed\techo: stream me\ttrue",
        "TASK_STATE_COMPLETED",
    ]
