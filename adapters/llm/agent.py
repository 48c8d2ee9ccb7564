"""An LLM agent: a model, a system prompt and a set of catalog tools, run as a tool-calling loop.

Every tool call the model asks for goes through the catalog pipeline like any other call, as a
child of the agent's own call: validation, hooks, and the policy of the agent's caller apply to
it, within the agent's deadline, and it is cancelled with the agent. The loop stops after
`max_steps` model turns. An agent is itself a catalog component (kind agent), so it can be
called like a tool and served.

With `memory = "NAME"` the conversation is kept in the runtime's state store (see `memory.py`):
loaded before each call, the finished turn saved after, so calls (and processes) continue it.

With `knowledge = "COLLECTION"` (or `{collection=, k=}`) each call first searches the runtime's
knowledge with the user's message; the passages and their citations join the system prompt and
the reply lists them (`passages`).
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmspell.runtime import (
    Component,
    DataPart,
    ErrorCode,
    Invocation,
    LLMSpellError,
    Pipeline,
    Result,
    TextPart,
)
from llmspell.runtime.hooks import fire
from llmspell.runtime.invocation import nested
from llmspell.runtime.knowledge import Knowledge, Passage
from llmspell.runtime.state import StateStore

from . import memory
from .memory import Memory
from .provider import Provider
from .registry import create_provider
from .spec import (
    KnowledgeUse,
    ModelSpec,
    effective_model,
    parse_knowledge,
    parse_model,
    with_passages,
)
from .types import (
    ChatRequest,
    Completion,
    Done,
    ImageInput,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
)

ChunkSink = Callable[[str], Awaitable[None]]
ImageLoader = Callable[[str], Awaitable[bytes]]

AGENT_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "The request for the agent"},
        "images": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Image file paths (inside the allowed roots) or http(s)/data URLs",
        },
    },
    "required": ["text"],
}
_SAFE_NAME = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True, slots=True)
class AgentSpec:
    name: str
    model: ModelSpec
    system_prompt: str = ""
    tools: tuple[str, ...] = ()
    description: str = ""
    max_steps: int = 8
    memory: str | None = None
    """The name the conversation is kept under in the state store; None: none kept."""
    memory_turns: int = 20
    """How many past turns (a user message and what followed) are kept and sent."""
    knowledge: KnowledgeUse | None = None
    """The collection searched with each user message; None: none."""

    @classmethod
    def from_plain(cls, value: dict[str, Any]) -> AgentSpec:
        """The script/config form: {name, model, system_prompt, tools, description, max_steps,
        temperature, max_tokens, memory, memory_turns, knowledge}."""
        if not isinstance(value.get("name"), str) or not value["name"]:
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, "an agent needs a name")
        if "model" not in value:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"agent {value['name']!r} needs a model, e.g. 'offline/demo'",
            )
        model = parse_model(value["model"]).with_overrides(
            temperature=value.get("temperature"), max_tokens=value.get("max_tokens")
        )
        tools = value.get("tools") or []
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"agent {value['name']!r}: tools is a list of tool names",
            )
        memory = value.get("memory")
        if memory is not None and (not isinstance(memory, str) or not memory):
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"agent {value['name']!r}: memory is the name the conversation is kept under",
            )
        turns = value.get("memory_turns", 20)
        if isinstance(turns, float) and turns.is_integer():
            turns = int(turns)  # a JS number
        if not isinstance(turns, int) or isinstance(turns, bool) or turns < 1:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"agent {value['name']!r}: memory_turns is a whole number of turns, at least 1",
            )
        return cls(
            name=value["name"],
            model=model,
            system_prompt=str(value.get("system_prompt") or ""),
            tools=tuple(tools),
            description=str(value.get("description") or f"LLM agent on {model.label}"),
            max_steps=int(value.get("max_steps") or 8),
            memory=memory,
            memory_turns=turns,
            knowledge=parse_knowledge(value.get("knowledge"), value["name"]),
        )


@dataclass(slots=True)
class AgentReply:
    text: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    steps: int = 0
    passages: list[dict[str, Any]] | None = None
    """What the agent's knowledge gave this call (None: the agent has no knowledge)."""

    def to_plain(self) -> dict[str, Any]:
        plain = {
            "text": self.text,
            "tool_calls": self.tool_calls,
            "usage": self.usage.to_plain(),
            "steps": self.steps,
        }
        return plain if self.passages is None else {**plain, "passages": self.passages}


async def to_image(value: Any, load: ImageLoader | None) -> ImageInput:
    """A file path (read through `load`, i.e. the file sandbox), bytes, or an http(s)/data URL."""
    if isinstance(value, bytes):
        return ImageInput(_sniff(value), data=value)
    if isinstance(value, str) and value.startswith(("http://", "https://", "data:")):
        return ImageInput(url=value)
    if isinstance(value, str) and load is not None:
        mime = mimetypes.guess_type(value)[0] or "image/png"
        return ImageInput(mime, data=await load(value))
    raise LLMSpellError(
        ErrorCode.INVALID_ARGUMENTS, f"an image is a file path, bytes or URL, not {value!r}"
    )


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


class Agent:
    def __init__(
        self,
        spec: AgentSpec,
        pipeline: Pipeline,
        *,
        load_image: ImageLoader | None = None,
        state: StateStore | None = None,
        knowledge: Knowledge | None = None,
    ) -> None:
        """`state` is the runtime's state store, needed when the spec asks for `memory`;
        `knowledge` its collections, needed when the spec names one."""
        self.spec = spec
        self.pipeline = pipeline
        self.load_image = load_image
        for tool in spec.tools:  # refuse unknown tools when the agent is built, not mid-run
            pipeline.catalog.get(tool)
        self._provider: Provider | None = None
        self.memory: Memory | None = None
        if spec.memory is not None:
            if state is None:
                raise LLMSpellError(
                    ErrorCode.NOT_CONFIGURED,
                    f"agent {spec.name!r}: memory needs a state store, and none was given",
                )
            self.memory = Memory(state, spec.memory, spec.memory_turns)
        if spec.knowledge is not None and knowledge is None:
            raise LLMSpellError(
                ErrorCode.NOT_CONFIGURED,
                f"agent {spec.name!r}: knowledge needs the runtime's collections, none given",
            )
        self.knowledge = knowledge

    @property
    def provider(self) -> Provider:
        if self._provider is None:
            self._provider = create_provider(self.spec.model)
        return self._provider

    def _tool_specs(self) -> tuple[list[ToolSpec], dict[str, str]]:
        specs, names = [], {}
        for tool in self.spec.tools:
            component = self.pipeline.catalog.get(tool)
            wire = _SAFE_NAME.sub("_", component.name)[:64]
            names[wire] = component.name
            specs.append(ToolSpec(wire, component.description, component.input_schema))
        return specs, names

    async def execute(
        self,
        text: str,
        images: Sequence[Any] = (),
        *,
        on_chunk: ChunkSink | None = None,
        parent: Invocation | None = None,
    ) -> AgentReply:
        """Run the loop. Tool calls are children of `parent`, the agent's own call (its caller,
        deadline and cancellation); without one, of the call in progress, else local calls.
        A model override in this context (`spec.overriding_model`) replaces the agent's model
        for this call only, on a provider made for the call and closed after it."""
        model = effective_model(self.spec.model)
        if model == self.spec.model:
            return await self._run(text, images, on_chunk, parent, model, self.provider)
        provider = create_provider(model)
        try:
            return await self._run(text, images, on_chunk, parent, model, provider)
        finally:
            await provider.aclose()

    async def _run(
        self,
        text: str,
        images: Sequence[Any],
        on_chunk: ChunkSink | None,
        parent: Invocation | None,
        model: ModelSpec,
        provider: Provider,
    ) -> AgentReply:
        spec = self.spec
        passages = await self._retrieve(text)
        system = with_passages(spec.system_prompt, passages)
        messages = [Message("system", system)] if system else []
        pictures = tuple([await to_image(i, self.load_image) for i in images])
        if self.memory is not None:
            messages.extend(await self.memory.load())
        turn = len(messages)  # where this call's own messages start
        messages.append(Message("user", text, images=pictures))
        tools, names = self._tool_specs()
        reply = AgentReply("")
        if spec.knowledge is not None:
            reply.passages = [p.to_plain() for p in passages]
        for step in range(1, spec.max_steps + 1):
            request = ChatRequest(messages, tools=tools)
            completion = await self._turn(request, on_chunk, model, provider)
            reply.usage.add(completion.usage)
            reply.steps = step
            if not completion.tool_calls:
                reply.text = completion.text
                if self.memory is not None:
                    messages.append(Message("assistant", completion.text))
                    await self.memory.append(messages[turn:])
                return reply
            messages.append(
                Message("assistant", completion.text, tool_calls=tuple(completion.tool_calls))
            )
            for call in completion.tool_calls:
                record = await self._call_tool(call, names, parent)
                reply.tool_calls.append(record)
                messages.append(Message("tool", record["result"], tool_call_id=call.id))
        raise LLMSpellError(
            ErrorCode.COMPONENT_FAILED,
            f"agent {spec.name!r} ({model.label}) gave no final answer "
            f"within {spec.max_steps} steps",
            data={"tool_calls": reply.tool_calls},
        )

    async def _retrieve(self, text: str) -> list[Passage]:
        """The passages of the agent's collection for the user's message; none while the
        collection does not exist (asking must not create it with the default embedding)."""
        use = self.spec.knowledge
        if use is None or self.knowledge is None or not text.strip():
            return []
        if use.collection not in await self.knowledge.names():
            return []
        collection = await self.knowledge.collection(use.collection)
        return await collection.search(text, use.k)

    async def _call_tool(
        self, call: ToolCall, names: dict[str, str], parent: Invocation | None
    ) -> dict[str, Any]:
        """One tool call the model asked for, as a record of the reply: a failure is told to
        the model as the tool's answer, unless the agent's own call was cancelled."""
        target = names.get(call.name, call.name)
        record: dict[str, Any] = {"id": call.id, "name": target, "arguments": call.arguments}
        if target not in names.values():
            record["is_error"] = True
            record["result"] = f"error: tool {call.name!r} is not available to this agent"
            return record
        arguments = call.arguments
        inv = nested(target, arguments) if parent is None else parent.child(target, arguments)
        try:
            result = await self.pipeline.invoke(inv)
        except LLMSpellError as exc:
            if inv.cancel.cancelled:
                raise
            record["is_error"], record["result"] = True, f"error: {exc}"
            return record
        record["is_error"] = result.is_error
        record["result"] = result.text or json.dumps(result.data, ensure_ascii=False)
        return record

    async def _turn(
        self,
        request: ChatRequest,
        on_chunk: ChunkSink | None,
        model: ModelSpec,
        provider: Provider,
    ) -> Completion:
        """One model turn, between the `before_llm` and `after_llm` hook points."""
        hooks, said = self.pipeline.hooks, {"agent": self.spec.name, "model": model.label}
        if hooks.wants("before_llm"):
            plain = [memory.to_plain(m) for m in request.messages]
            tools = [t.name for t in request.tools]
            fired = await fire(
                hooks, "before_llm", {**said, "messages": plain, "tools": tools}, self.spec.name
            )
            if fired.replaced:  # a hook answered for the model (a cache, a canned reply)
                answer = fired.result
                return Completion(
                    text=str(answer.get("text", "") if isinstance(answer, dict) else answer)
                )
            if fired.context["messages"] is not plain:
                messages = [memory.from_plain(m) for m in fired.context["messages"]]
                request = dataclasses.replace(request, messages=messages)
        completion = await self._ask(request, on_chunk, model, provider)
        if hooks.wants("after_llm"):
            response = {
                "text": completion.text,
                "tool_calls": [c.name for c in completion.tool_calls],
            }
            fired = await fire(
                hooks,
                "after_llm",
                {**said, "response": response, "usage": completion.usage.to_plain()},
                self.spec.name,
            )
            changed = fired.context["response"]
            if isinstance(changed, dict) and isinstance(changed.get("text"), str):
                completion.text = changed["text"]
        return completion

    async def _ask(
        self,
        request: ChatRequest,
        on_chunk: ChunkSink | None,
        model: ModelSpec,
        provider: Provider,
    ) -> Completion:
        """The model call itself; streamed text goes to `on_chunk` as it arrives."""
        if on_chunk is None:
            return await provider.complete(request)
        async for event in provider.stream(request):
            if isinstance(event, Done):
                return event.completion
            if event.text:  # a role-only or empty delta carries nothing to show
                await on_chunk(event.text)
        raise LLMSpellError(
            ErrorCode.PROVIDER_ERROR, f"{model.label}: the stream ended without a reply"
        )

    async def clear_memory(self) -> None:
        """Forget the kept conversation (nothing to do for an agent without memory)."""
        if self.memory is not None:
            await self.memory.clear()

    def component(self) -> Component:
        async def handle(inv: Invocation) -> Result:
            sent = 0

            async def progress(chunk: str) -> None:
                nonlocal sent
                sent += 1
                await inv.report_progress(sent, None, chunk)

            reply = await self.execute(
                inv.arguments["text"],
                inv.arguments.get("images") or (),
                on_chunk=progress if inv.progress is not None else None,
                parent=inv,
            )
            return Result([TextPart(reply.text), DataPart(reply.to_plain())])

        return Component(
            name=self.spec.name,
            handler=handle,
            kind="agent",
            description=self.spec.description,
            input_schema=AGENT_INPUT_SCHEMA,
            source=f"agent:{self.spec.model.label}",
        )

    async def aclose(self) -> None:
        if self._provider is not None:
            await self._provider.aclose()
