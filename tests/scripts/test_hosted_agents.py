"""`Agent.define`: an agent written in a script drives its own task. The same agent, on every
engine, seen by a caller that tracks tasks (the `updates` sink A2A uses), by one that does not
(progress and one folded Result, as MCP and scripts see it), and over MCP from a real gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from llmspell.adapters.scripts.api import ScriptHost
from llmspell.adapters.scripts.engine import Limits, engine_factory
from llmspell.runtime import (
    ArtifactUpdate,
    Invocation,
    LLMSpellError,
    Reply,
    Runtime,
    StatusUpdate,
    TaskMessage,
    TaskUpdate,
    TextPart,
)
from mcp import Client
from mcpserver.conftest import gateway

ENGINES = ["lua", "javascript", "v8"]

AGENT = {
    "lua": """
Agent.define{
  name = "writer",
  description = "Writes in steps",
  skills = {"drafting", {id = "edit", name = "Editing", tags = {"text"}}},
  input_modes = {"text/plain"},
  handler = function(message, task)
    if message.text == "boom" then
      error("no ink")
    end
    if message.text == "quick" then
      return {parts = {{type = "text", text = "quick answer"}}}
    end
    if message.text == "hello" then
      task:reply("hi there")
      return
    end
    if message.text == "late" then
      task:complete("done")
      task:working("again")
    end
    task:working("step 1 for " .. message.id)
    task:artifact{name = "notes", parts = "a"}
    task:artifact{name = "notes", parts = {"b"}, append = true, last_chunk = true}
    task:artifact{name = "file", parts = {{bytes = "xyz", name = "f.txt", media_type = "text/plain"}}}
    task:complete({"done", {data = {n = #message.parts}}})
  end,
}
""",
    "js": """
await Agent.define({
  name: "writer",
  description: "Writes in steps",
  skills: ["drafting", { id: "edit", name: "Editing", tags: ["text"] }],
  input_modes: ["text/plain"],
  handler: async (message, task) => {
    if (message.text === "boom") {
      throw new Error("no ink");
    }
    if (message.text === "quick") return { parts: [{ type: "text", text: "quick answer" }] };
    if (message.text === "hello") {
      await task.reply("hi there");
      return;
    }
    if (message.text === "late") {
      await task.complete("done");
      await task.working("again");
    }
    await task.working("step 1 for " + message.id);
    await task.artifact({ name: "notes", parts: "a" });
    await task.artifact({ name: "notes", parts: ["b"], append: true, last_chunk: true });
    await task.artifact({ name: "file", parts: [{ bytes: "xyz", name: "f.txt", media_type: "text/plain" }] });
    await task.complete(["done", { data: { n: message.parts.length } }]);
  },
});
""",
}


async def load(engine: str) -> Runtime:
    runtime = Runtime()
    host = ScriptHost(runtime, source="test")
    script = AGENT["lua" if engine == "lua" else "js"]
    name = "agent.lua" if engine == "lua" else "agent.js"
    await engine_factory(engine)(host.spec(), Limits()).run(script, name)
    return runtime


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_task_seen_as_updates(engine: str) -> None:
    runtime = await load(engine)
    agent = runtime.catalog.get("writer")
    assert agent.kind == "agent" and agent.task_aware
    assert [s.id for s in agent.skills] == ["drafting", "edit"]
    assert agent.skills[1].tags == ("text",) and agent.input_modes == ("text/plain",)
    seen: list[TaskUpdate] = []

    async def sink(update: TaskUpdate) -> None:
        seen.append(update)

    message = TaskMessage([TextPart("write")], id="m-1", context_id="c-1", task_id="t-1")
    await runtime.pipeline.invoke(Invocation("writer", {}, message=message, updates=sink))
    working, first, second, file, done = seen
    assert working == StatusUpdate("working", [TextPart("step 1 for m-1")])
    assert isinstance(first, ArtifactUpdate) and isinstance(second, ArtifactUpdate)
    assert (first.name, first.append, second.append, second.last_chunk) == (
        "notes",
        False,
        True,
        True,
    )
    assert first.artifact_id == second.artifact_id != file.artifact_id  # type: ignore[union-attr]
    assert file.parts[0].data == b"xyz" and file.parts[0].name == "f.txt"  # type: ignore[union-attr]
    assert isinstance(done, StatusUpdate) and done.state == "completed"
    assert done.parts[0] == TextPart("done") and done.parts[1].data == {"n": 1}  # type: ignore[union-attr]


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_task_seen_without_tasks(engine: str) -> None:
    """As MCP and scripts call it: status text is progress, the Result folds the artifacts
    (appended chunks together) before the final message."""
    runtime = await load(engine)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, text: str | None) -> None:
        progress.append((done, total, text))

    result = await runtime.pipeline.invoke(
        Invocation("writer", {"text": "write"}, progress=on_progress)
    )
    assert progress[0][:2] == (1.0, None) and progress[0][2].startswith("step 1 for ")  # type: ignore[union-attr]
    assert [getattr(p, "text", None) for p in result.parts[:2]] == ["a", "b"]
    assert result.parts[2].data == b"xyz"  # type: ignore[union-attr]
    assert result.parts[3] == TextPart("done") and not result.is_error
    quick = await runtime.pipeline.invoke(Invocation("writer", {"text": "quick"}))
    assert quick.text == "quick answer"  # a returned value completes the task
    reply: list[TaskUpdate] = []

    async def sink(update: TaskUpdate) -> None:
        reply.append(update)

    hello = await runtime.pipeline.invoke(Invocation("writer", {"text": "hello"}, updates=sink))
    assert reply == [Reply([TextPart("hi there")])] and hello.text == "hi there"


@pytest.mark.parametrize("engine", ENGINES)
async def test_errors_name_the_script_line(engine: str) -> None:
    runtime = await load(engine)
    name = "agent.lua" if engine == "lua" else "agent.js"
    with pytest.raises(LLMSpellError) as raised:
        await runtime.pipeline.invoke(Invocation("writer", {"text": "boom"}))
    assert f"{name}:9:" in str(raised.value) and "no ink" in str(raised.value)
    with pytest.raises(LLMSpellError) as late:
        await runtime.pipeline.invoke(Invocation("writer", {"text": "late"}))
    assert "task:working: the task is already completed" in str(late.value)
    assert f"{name}:" in str(late.value)


async def test_served_over_mcp_with_progress_and_over_a2a(tmp_path: Path) -> None:
    (tmp_path / "agent.lua").write_text(AGENT["lua"], encoding="utf-8")
    config = tmp_path / "llmspell.toml"
    config.write_text('builtins = false\nscripts = ["agent.lua"]\n', encoding="utf-8")
    seen: list[Any] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, message))

    with gateway(config=config, cwd=tmp_path) as running:
        async with Client(running.url) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["writer"].input_schema["properties"]["text"]["type"] == "string"
            result = await client.call_tool(
                "writer", {"text": "write"}, progress_callback=on_progress
            )
            failed = await client.call_tool("writer", {"text": "boom"})
        async with httpx.AsyncClient() as http:
            reply = await http.post(
                running.url.replace("/mcp", "/a2a/writer/"),
                headers={"A2A-Version": "1.0"},
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "SendMessage",
                    "params": {
                        "message": {
                            "role": "ROLE_USER",
                            "messageId": "m",
                            "parts": [{"text": "boom"}],
                        }
                    },
                },
            )
        sent = reply.json()["result"]["task"]["status"]
    texts = [c.text for c in result.content if isinstance(c, types.TextContent)]
    assert texts == ["a", "b", "done"] and not result.is_error
    assert [c.type for c in result.content] == ["text", "text", "resource", "text"]
    assert seen and seen[0][1].startswith("step 1 for ")
    assert failed.is_error and "agent.lua:9: no ink" in failed.content[0].text  # type: ignore[union-attr]
    assert sent["state"] == "TASK_STATE_FAILED"  # and over A2A, the task fails with FILE:LINE
    assert "agent.lua:9: no ink" in sent["message"]["parts"][0]["text"]
