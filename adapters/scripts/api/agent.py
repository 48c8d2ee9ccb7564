"""`Agent`: LLM agents (`Agent.create`, with `agent:execute` / `agent:stream`) and agents written in
the script (`Agent.define`), which drive their own task and are served over A2A and MCP.

`agent:execute` passes the pipeline's gate as a call of the agent's catalog component (policy,
`before_agent` hooks, limits, metrics, events); its tool calls are children of that call."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime import (
    Component,
    DataPart,
    Invocation,
    Part,
    Result,
    Skill,
    TaskMessage,
    TaskReporter,
    TextPart,
)
from llmspell.runtime.content import part_to_plain
from llmspell.runtime.invocation import nested

from ..engine import HostFunction, HostObject, ScriptFunction
from .arguments import as_list, need, strings
from .binding import async_, sync

if TYPE_CHECKING:
    from llmspell.adapters.llm.agent import Agent, AgentReply, ChunkSink

    from .host import ScriptHost

FIELDS = (
    "name",
    "model",
    "system_prompt",
    "tools",
    "description",
    "max_steps",
    "temperature",
    "max_tokens",
    "memory",
    "memory_turns",
    "knowledge",
)
"""What `Agent.builder()` sets before `build()` hands them to `Agent.create`."""


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {"create": sync(partial(create, host)), "define": sync(partial(define, host))}


def bind_methods(host: ScriptHost) -> dict[str, HostFunction]:
    """The methods of `Agent` objects (what `Agent.create` returns)."""
    return {
        "execute": async_(partial(execute, host)),
        "stream": HostFunction(partial(stream, host), is_async=True, stream=True),
        "clear_memory": async_(partial(clear_memory, host)),
    }


def create(host: ScriptHost, spec: Any) -> HostObject:
    from llmspell.adapters.llm.agent import Agent, AgentSpec
    from llmspell.adapters.tools.sandbox.files import Roots

    from .rag import knowledge_of

    need(isinstance(spec, dict), "Agent.create{...} takes a table/object")
    roots = Roots.of(host.roots)

    async def load_image(path: str) -> bytes:
        return await roots.read_bytes("agent", path)

    agent = Agent(
        AgentSpec.from_plain(spec),
        host.runtime.pipeline,
        load_image=load_image,
        state=host.runtime.state,
        knowledge=knowledge_of(host) if spec.get("knowledge") is not None else None,
    )
    host.register(agent.component())
    ref = host.refs.hold(agent)
    return HostObject("Agent", ref, {"name": agent.spec.name, "model": agent.spec.model.label})


async def execute(host: ScriptHost, ref: Any, value: Any) -> dict[str, Any]:
    agent, text, images = _input(host, ref, value)
    return await _gated(host, agent, text, images, None)


async def clear_memory(host: ScriptHost, ref: Any) -> None:
    """`agent:clear_memory()`: forget the conversation kept under the agent's `memory` name."""
    from llmspell.adapters.llm.agent import Agent

    agent = host.refs.get(ref, Agent)
    need(agent is not None, "not an agent: call methods on what Agent.create returned")
    assert agent is not None
    await agent.clear_memory()


async def stream(host: ScriptHost, ref: Any, value: Any, callback: Any) -> dict[str, Any]:
    agent, text, images = _input(host, ref, value)
    need(isinstance(callback, ScriptFunction), "stream(input, fn): fn must be a function")

    async def on_chunk(chunk: str) -> None:
        await callback.engine.call(callback, chunk)

    return await _gated(host, agent, text, images, on_chunk)


async def _gated(
    host: ScriptHost, agent: Agent, text: str, images: list[Any], on_chunk: ChunkSink | None
) -> dict[str, Any]:
    name = agent.spec.name
    arguments: dict[str, Any] = {"text": text, "images": images} if images else {"text": text}

    async def call(inv: Invocation) -> AgentReply:
        asked = inv.arguments  # as a before_agent hook may have changed them
        return await agent.execute(
            str(asked.get("text", text)), asked.get("images") or (), on_chunk=on_chunk, parent=inv
        )

    component = host.runtime.catalog.find(name) or agent.component()
    reply = await host.runtime.pipeline.gate(component, nested(name, arguments), call)
    return dict(reply.to_plain())


def _input(host: ScriptHost, ref: Any, value: Any) -> tuple[Agent, str, list[Any]]:
    from llmspell.adapters.llm.agent import Agent

    agent = host.refs.get(ref, Agent)
    need(agent is not None, "not an agent: call methods on what Agent.create returned")
    assert agent is not None
    if isinstance(value, str):
        return agent, value, []
    need(
        isinstance(value, dict) and isinstance(value.get("text"), str),
        "agent input is a string or {text=..., images=...}",
    )
    images = value.get("images") or []
    need(isinstance(images, list), "images is a list of file paths, bytes or URLs")
    return agent, value["text"], images


def define(host: ScriptHost, spec: Any) -> str:
    """`Agent.define{name=, description=, skills=, input_modes=, output_modes=,
    handler=function(message, task) ... end}`: an agent written in the script, which drives its
    own task (status, artifacts, input-required, a direct reply). Served over A2A as it is, over
    MCP as a tool whose status updates are progress."""
    need(isinstance(spec, dict), "Agent.define{...} takes a table/object")
    name, handler = spec.get("name"), spec.get("handler")
    need(isinstance(name, str) and name != "", "Agent.define: name must be a non-empty string")
    need(isinstance(handler, ScriptFunction), "Agent.define: handler must be a function")
    skills = tuple(
        _skill(item, f"Agent.define {name!r}: skills")
        for item in as_list(spec.get("skills"), "Agent.define: skills")
    )
    modes = {
        key: tuple(strings(spec.get(key), f"Agent.define: {key}"))
        for key in ("input_modes", "output_modes")
    }

    async def call(inv: Invocation) -> Result:
        task = TaskReporter(inv)
        message = inv.message or TaskMessage(_message_parts(inv.arguments))
        fields = {"agent": name, "id": message.task_id, "context_id": message.context_id}
        with host.refs.holding(task) as ref:
            value = await handler.engine.call(
                handler, message_to_plain(message), HostObject("Task", ref, fields)
            )
        return await task.result(None if value is None else Result.from_plain(value))

    host.register(
        Component(
            name=name,
            handler=call,
            kind="agent",
            description=str(spec.get("description") or ""),
            input_schema={
                "type": "object",
                "properties": {"text": {"type": "string", "description": "The message."}},
            },
            source=host.source,
            task_aware=True,
            skills=skills,
            input_modes=modes["input_modes"],
            output_modes=modes["output_modes"],
        )
    )
    return str(name)


def message_to_plain(message: TaskMessage) -> dict[str, Any]:
    """A hosted agent's `message`: ids, parts (files in A2A's form), metadata, and `text`, all
    its text parts joined."""
    return {
        "id": message.id,
        "context_id": message.context_id,
        "task_id": message.task_id,
        "parts": [part_to_plain(p, a2a_files=True) for p in message.parts],
        "metadata": message.metadata,
        "text": "\n".join(p.text for p in message.parts if isinstance(p, TextPart)),
    }


def _message_parts(arguments: dict[str, Any]) -> list[Part]:
    """A hosted agent called as a tool: `{text}` is a text message, anything else data."""
    if set(arguments) == {"text"} and isinstance(arguments["text"], str):
        return [TextPart(arguments["text"])]
    return [DataPart(arguments)] if arguments else []


def _skill(value: Any, what: str) -> Skill:
    """A skill is a name, or `{id=, name=, description=, tags=, examples=}`."""
    if isinstance(value, str):
        return Skill(value, value)
    need(isinstance(value, dict), f"{what}: a skill is a name or a table/object")
    ident = value.get("id") or value.get("name")
    need(isinstance(ident, str) and ident != "", f"{what}: a skill needs an id or a name")
    return Skill(
        ident,
        str(value.get("name") or ident),
        str(value.get("description") or ""),
        tuple(strings(value.get("tags"), f"{what}: tags")),
        tuple(strings(value.get("examples"), f"{what}: examples")),
    )
