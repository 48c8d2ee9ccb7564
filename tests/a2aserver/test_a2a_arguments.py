"""How an A2A message becomes a tool's arguments, over a real gateway: whole numbers in a data
part stay integers (protobuf's Value holds every number as a double), and a text message that
is a JSON object the tool's schema takes is the arguments, not the value of its one string
argument."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_data_part, new_message
from a2a.types import Role, SendMessageRequest, TaskState
from llmspell.protocols.a2a import translate
from llmspell.runtime import DataPart
from mcpserver.conftest import FILESYSTEM, NODE, gateway

NUMBERS = """
Tool.define{
  name = "numbers",
  description = "Says which numbers it was given as integers",
  input_schema = {
    type = "object",
    properties = {steps = {type = "integer"}, ratio = {type = "number"}, more = {type = "object"}},
  },
  handler = function(args)
    return {
      steps = args.steps,
      steps_type = math.type(args.steps),
      ratio_type = math.type(args.ratio),
      count_type = math.type(args.more.count),
      echoed = args.more,
    }
  end,
}
"""


def base(url: str) -> str:
    return url[: -len("/mcp")]


async def test_integers_in_data_parts_stay_integers(tmp_path: Path) -> None:
    (tmp_path / "numbers.lua").write_text(NUMBERS, encoding="utf-8")
    config = tmp_path / "llmspell.toml"
    config.write_text('scripts = ["numbers.lua"]\n[a2a]\ntask_store = "memory"\n')
    sent = {"steps": 1, "ratio": 0.5, "more": {"count": 3, "items": [1, 2.5]}}
    with gateway(config=config, cwd=tmp_path) as running:
        client = await create_client(
            f"{base(running.url)}/a2a/numbers",
            ClientConfig(streaming=False, supported_protocol_bindings=["JSONRPC"]),
        )
        message = new_message([new_data_part(sent)], role=Role.ROLE_USER)
        events = [e async for e in client.send_message(SendMessageRequest(message=message))]
        await client.close()
    task = events[-1].task
    assert task.status.state == TaskState.TASK_STATE_COMPLETED, task
    part = translate.from_part(task.artifacts[0].parts[0])
    assert isinstance(part, DataPart)
    seen: dict[str, Any] = part.data
    assert seen["steps_type"] == "integer" and seen["count_type"] == "integer", seen
    assert seen["ratio_type"] == "float"
    assert seen["steps"] == 1 and type(seen["steps"]) is int
    assert seen["echoed"] == {"count": 3, "items": [1, 2.5]}
    assert type(seen["echoed"]["items"][0]) is int and type(seen["echoed"]["count"]) is int


def send_text(url: str, text: str) -> dict[str, Any]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "SendMessage",
        "params": {
            "message": {"messageId": f"m-{len(text)}", "role": "ROLE_USER", "parts": [{"text": text}]}
        },
    }
    reply = httpx.post(url, json=body, headers={"A2A-Version": "1.0"}, timeout=30)
    task: dict[str, Any] = reply.json()["result"]["task"]
    return task


def test_a_json_object_text_that_fits_the_schema_is_the_arguments(tmp_path: Path) -> None:
    """`filesystem.list_directory` takes one string, `path`: `{"path": DIR}` lists DIR, while
    plain text still goes to `path` as before."""
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "marker.txt").write_text("here", encoding="utf-8")
    config = tmp_path / "llmspell.toml"
    config.write_text(
        f"""
builtins = false
[a2a]
task_store = "memory"
[mcpServers.filesystem]
command = "{NODE}"
args = ["{FILESYSTEM}", "{tmp_path}"]
""",
        encoding="utf-8",
    )
    with gateway(config=config, cwd=tmp_path) as running:
        endpoint = f"{base(running.url)}/a2a/filesystem.list_directory/"
        as_json = send_text(endpoint, f'{{"path": "{listed}"}}')
        as_text = send_text(endpoint, str(listed))
    for task in (as_json, as_text):
        assert task["status"]["state"] == "TASK_STATE_COMPLETED", task
        assert "marker.txt" in str(task["artifacts"]), task


def test_whole_numbers_follow_the_schema() -> None:
    """Integers where nothing says otherwise; a place the schema calls a number keeps its float;
    a double too big to hold every integer stays a double."""
    schema = {
        "type": "object",
        "properties": {
            "ratio": {"type": "number"},
            "either": {"type": ["integer", "null"]},
            "pairs": {"type": "array", "items": {"type": "number"}},
            "first": {"type": "array", "prefixItems": [{"type": "number"}]},
        },
        "additionalProperties": {"type": "number"},
    }
    value = {"ratio": 2.0, "either": 3.0, "pairs": [1.0], "first": [1.0, 2.0], "other": 4.0}
    restored = translate.integral(value, {**schema, "additionalProperties": False})
    assert restored == value
    assert [type(restored[k]) for k in ("ratio", "either", "other")] == [float, int, int]
    assert type(restored["pairs"][0]) is float
    assert [type(v) for v in restored["first"]] == [float, int]
    assert type(translate.integral(value, schema)["other"]) is float
    assert type(translate.integral(2.0**60)) is float


def test_a_workflow_takes_its_schema_from_text_as_a_tool_does() -> None:
    """A workflow's input is its schema's, not an agent's `text`: a JSON object text is the
    arguments, and plain text goes to its only string argument."""
    from a2a.helpers.proto_helpers import new_text_part
    from llmspell.runtime import Component, Result

    async def handler(inv: Any) -> Result:
        return Result()

    schema = {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]}
    flow = Component("flow", handler, "workflow", input_schema=schema)
    agent = Component("agent", handler, "agent", input_schema=schema)

    def text(value: str) -> Any:
        return new_message([new_text_part(value)], role=Role.ROLE_USER)

    assert translate.arguments(flow, text('{"key": "k1"}')) == {"key": "k1"}
    assert translate.arguments(flow, text("plain")) == {"key": "plain"}
    assert translate.arguments(agent, text('{"key": "k1"}')) == {"text": '{"key": "k1"}'}
