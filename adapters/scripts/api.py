"""The script API, described once. Every engine binds this same table of host functions, so Lua
and JavaScript see the same globals with the same behaviour; engines only marshal values.

Values crossing the boundary are plain: None, bool, int, float, str, bytes, list, dict, and
ScriptFunction handles for functions the script hands over (handlers, hooks, subscribers).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmspell.runtime import (
    Annotations,
    BlobPart,
    Component,
    DataPart,
    ErrorCode,
    Invocation,
    LLMSpellError,
    Prompt,
    PromptArgument,
    PromptMessage,
    Resource,
    ResourceLink,
    ResourcePart,
    Result,
    Runtime,
    Skill,
    TaskMessage,
    TaskReporter,
    TextPart,
)
from llmspell.runtime import Part as RuntimePart
from llmspell.runtime.content import part_from_plain, part_to_plain, resource_from_plain
from llmspell.runtime.invocation import current
from llmspell.runtime.peer import (
    LOG_LEVELS,
    ElicitReply,
    SamplingReply,
    SamplingRequest,
    unsupported,
)
from llmspell.runtime.prompts import Completer
from llmspell.runtime.schema import CompiledSchema, InvalidSchema

from .engine import ApiSpec, Builder, HostFunction, HostObject, ScriptFunction

Writer = Callable[[str], None]
AGENT_FIELDS = (
    "name",
    "model",
    "system_prompt",
    "tools",
    "description",
    "max_steps",
    "temperature",
    "max_tokens",
)


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


class ScriptAPIError(LLMSpellError):
    """Misuse of the API from a script (wrong argument types); surfaces as a script error."""


@dataclass(slots=True)
class ScriptHost:
    """Binds one script's view of the runtime. `source` names the script for catalog entries."""

    runtime: Runtime
    source: str = "script"
    args: list[str] = field(default_factory=list)
    stdout: Writer = _stdout
    stderr: Writer = _stderr
    log_level: int = 20
    defined: list[str] = field(default_factory=list)
    """Components this script registered, so a reload can take them back."""
    roots: Sequence[Path] | None = None
    """Where files may be read from (agent images); default the working directory."""
    agents: dict[int, Any] = field(default_factory=dict)
    prompts: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    calls: dict[int, Invocation] = field(default_factory=dict)
    """Invocations of this script's tools in flight, by the ref their `ctx` object carries."""
    tasks: dict[int, TaskReporter] = field(default_factory=dict)
    """Tasks of this script's hosted agents in flight, by the ref their `task` object carries."""
    servers: list[str] = field(default_factory=list)
    """Remote MCP servers this script connected; disconnected when it is closed."""
    _next_call: int = 0

    def spec(self) -> ApiSpec:
        return ApiSpec(
            namespaces={
                "Tool": {
                    "list": sync(self.tool_list),
                    "execute": async_(self.tool_execute),
                    "define": sync(self.tool_define),
                },
                "State": {
                    "get": async_(self.runtime.state.get),
                    "set": async_(self.state_set),
                    "delete": async_(self.runtime.state.delete),
                    "keys": async_(self.state_keys),
                },
                "Event": {
                    "publish": async_(self.event_publish),
                    "subscribe": sync(self.event_subscribe),
                    "unsubscribe": sync(self.runtime.events.unsubscribe),
                },
                "Hook": {
                    "register": sync(self.hook_register),
                    "unregister": sync(self.runtime.hooks.unregister),
                },
                "JSON": {"encode": sync(json_encode), "decode": sync(json_decode)},
                "Agent": {"create": sync(self.agent_create), "define": sync(self.agent_define)},
                "Prompt": {"define": sync(self.prompt_define)},
                "A2A": {
                    "discover": async_(self.a2a_discover),
                    "send": async_(self.a2a_send),
                    "get_task": async_(self.a2a_get_task),
                },
                "MCP": {
                    "connect": async_(self.mcp_connect),
                    "disconnect": async_(self.mcp_disconnect),
                    "servers": sync(self.mcp_servers),
                    "tools": sync(self.mcp_tools),
                },
                "Resource": {
                    "define": sync(self.resource_define),
                    "updated": sync(self.runtime.resources.updated),
                },
                "Log": {
                    "debug": notify(lambda *m: self.log("debug", m, current.get())),
                    "info": notify(lambda *m: self.log("info", m, current.get())),
                    "warn": notify(lambda *m: self.log("warning", m, current.get())),
                    "error": notify(lambda *m: self.log("error", m, current.get())),
                },
            },
            functions={"print": notify(self.print), "sleep": async_(sleep)},
            values={"ARGS": list(self.args)},
            types={
                "Call": {
                    "progress": async_(self.call_progress),
                    "log": notify(self.call_log),
                    "sample": async_(self.call_sample),
                    "elicit": async_(self.call_elicit),
                    "cancelled": sync(self.call_cancelled),
                },
                "Task": {
                    "working": async_(self.task_working),
                    "artifact": async_(self.task_artifact),
                    "complete": async_(self.task_complete),
                    "fail": async_(self.task_fail),
                    "reject": async_(self.task_reject),
                    "require_input": async_(self.task_require_input),
                    "reply": async_(self.task_reply),
                    "cancelled": sync(self.task_cancelled),
                },
                "Agent": {
                    "execute": async_(self.agent_execute),
                    "stream": HostFunction(self.agent_stream, is_async=True, stream=True),
                },
            },
            builders={"Agent": Builder(AGENT_FIELDS, "create")},
        )

    # -- Tool ---------------------------------------------------------------------------------

    def tool_list(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [c.summary() for c in self.runtime.catalog.list() if kind is None or c.kind == kind]

    async def tool_execute(self, name: Any, args: Any = None) -> dict[str, Any]:
        _need(isinstance(name, str), "Tool.execute(name, args): name must be a string")
        arguments = _object(args, "Tool.execute(name, args): args")
        result = await self.runtime.pipeline.invoke(Invocation(name, arguments))
        return result.to_plain()

    def tool_define(self, spec: Any) -> str:
        _need(isinstance(spec, dict), "Tool.define{...} takes a table/object")
        name, handler = spec.get("name"), spec.get("handler")
        _need(isinstance(name, str) and name != "", "Tool.define: name must be a non-empty string")
        _need(isinstance(handler, ScriptFunction), "Tool.define: handler must be a function")
        schema = spec.get("input_schema") or {"type": "object"}
        _need(isinstance(schema, dict), "Tool.define: input_schema must be a table/object")
        try:
            CompiledSchema(schema)
        except InvalidSchema as exc:
            raise ScriptAPIError(_API_ERROR, f"Tool.define {name!r}: {exc}") from None
        annotations = spec.get("annotations") or {}

        async def call(inv: Invocation) -> Result:
            self._next_call += 1
            ref = self._next_call
            self.calls[ref] = inv
            try:
                ctx = HostObject("Call", ref, {"tool": name})
                return Result.from_plain(await handler.engine.call(handler, inv.arguments, ctx))
            finally:
                del self.calls[ref]

        self.runtime.catalog.register(
            Component(
                name=name,
                handler=call,
                kind="tool",
                description=str(spec.get("description") or ""),
                input_schema=schema,
                output_schema=spec.get("output_schema"),
                annotations=Annotations(
                    title=annotations.get("title"),
                    read_only=annotations.get("read_only"),
                    destructive=annotations.get("destructive"),
                    idempotent=annotations.get("idempotent"),
                    open_world=annotations.get("open_world"),
                ),
                source=self.source,
            ),
            replace=name in self.defined,
        )
        if name not in self.defined:
            self.defined.append(name)
        return str(name)

    # -- the `ctx` a tool handler gets: its caller, progress, cancellation ----------------------

    def _call(self, ref: Any) -> Invocation:
        inv = self.calls.get(ref)
        _need(inv is not None, "this call has finished: use ctx only while the handler runs")
        assert inv is not None
        if inv.cancel.cancelled:
            raise LLMSpellError(ErrorCode.CANCELLED, "the call was cancelled by its caller")
        return inv

    async def call_progress(
        self, ref: Any, progress: Any, total: Any = None, message: Any = None
    ) -> None:
        inv = self._call(ref)
        _need(isinstance(progress, int | float), "ctx:progress(progress, total, message)")
        await inv.report_progress(
            float(progress),
            float(total) if isinstance(total, int | float) else None,
            message if isinstance(message, str) else None,
        )

    def call_log(self, ref: Any, level: Any, *parts: Any) -> None:
        self.log(level if level in LOG_LEVELS else "info", parts, self.calls.get(ref))

    async def call_sample(self, ref: Any, request: Any) -> dict[str, Any]:
        inv = self._call(ref)
        if inv.peer is None or not inv.peer.supports("sampling"):
            raise unsupported("sampling")
        reply = await inv.peer.sample(sampling_request(request))
        return {
            "text": reply.content.text if isinstance(reply.content, TextPart) else "",
            "role": reply.role,
            "content": part_to_plain(reply.content),
            "model": reply.model,
            "stop_reason": reply.stop_reason,
        }

    async def call_elicit(self, ref: Any, request: Any) -> dict[str, Any]:
        inv = self._call(ref)
        if inv.peer is None or not inv.peer.supports("elicitation"):
            raise unsupported("elicitation")
        _need(isinstance(request, dict), "ctx:elicit{message=..., schema=...}")
        message, schema = request.get("message"), request.get("schema")
        _need(isinstance(message, str), "ctx:elicit: message must be a string")
        _need(isinstance(schema, dict), "ctx:elicit: schema must be a table/object")
        reply = await inv.peer.elicit(message, schema)
        return {"action": reply.action, "content": reply.content}

    def call_cancelled(self, ref: Any) -> bool:
        inv = self.calls.get(ref)
        return inv is None or inv.cancel.cancelled

    # -- MCP: remote servers joining the catalog ------------------------------------------------

    def _remote(self) -> Any:
        if self.runtime.remote is None:
            raise LLMSpellError(
                ErrorCode.NOT_CONFIGURED, "MCP: this runtime has no MCP client plugged in"
            )
        return self.runtime.remote

    async def mcp_connect(self, spec: Any) -> dict[str, Any]:
        """`MCP.connect{name=, command=, args=, env=}` or `MCP.connect{name=, url=, headers=}`:
        the server's tools become `name.tool`, callable with Tool.execute."""
        _need(isinstance(spec, dict), "MCP.connect{name=..., command=... or url=...}")
        handlers = {k: spec.pop(k) for k in ("on_sample", "on_elicit") if k in spec}
        for key, fn in handlers.items():
            _need(isinstance(fn, ScriptFunction), f"MCP.connect: {key} must be a function")
        peer = ScriptPeer(handlers.get("on_sample"), handlers.get("on_elicit"))
        info: dict[str, Any] = await self._remote().connect(spec, peer=peer if handlers else None)
        self.servers.append(info["name"])
        return info

    async def mcp_disconnect(self, name: Any) -> None:
        _need(isinstance(name, str), "MCP.disconnect(name): name must be a string")
        await self._remote().disconnect(name)
        if name in self.servers:
            self.servers.remove(name)

    def mcp_servers(self) -> list[dict[str, Any]]:
        return self.runtime.remote.servers() if self.runtime.remote is not None else []

    def mcp_tools(self, server: Any) -> list[dict[str, Any]]:
        _need(isinstance(server, str), "MCP.tools(server): server must be a string")
        tools: list[dict[str, Any]] = self._remote().tools(server)
        return tools

    # -- A2A: remote agents -----------------------------------------------------------------------

    def _agents(self) -> Any:
        if self.runtime.a2a is None:
            raise LLMSpellError(
                ErrorCode.NOT_CONFIGURED, "A2A: this runtime has no A2A client plugged in"
            )
        return self.runtime.a2a

    async def a2a_discover(self, url: Any, name: Any = None) -> dict[str, Any]:
        _need(isinstance(url, str), "A2A.discover(url): url must be a string")
        found: dict[str, Any] = await self._agents().discover(
            url, name if isinstance(name, str) else None
        )
        return found

    async def a2a_send(self, agent: Any, message: Any, opts: Any = None) -> dict[str, Any]:
        """`A2A.send(agent, "text" | {parts...}, {stream=true, on_update=function(u) end})`."""
        _need(isinstance(agent, str), "A2A.send(agent, message, opts): agent is a name or URL")
        options = _object(opts, "A2A.send: opts")
        if isinstance(message, str):
            parts: list[Any] = [TextPart(message)]
        else:
            items = message if isinstance(message, list) else [message]
            try:
                parts = [TextPart(i) if isinstance(i, str) else part_from_plain(i) for i in items]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ScriptAPIError(_API_ERROR, f"A2A.send: {exc}") from None
        callback = options.get("on_update")
        _need(
            callback is None or isinstance(callback, ScriptFunction),
            "A2A.send: on_update must be a function",
        )
        on_update = None
        if callback is not None and options.get("stream", True):

            async def on_update(update: dict[str, Any]) -> None:
                plain = {k: v for k, v in update.items() if k != "parts"}
                if "parts" in update:
                    plain["parts"] = [part_to_plain(p) for p in update["parts"]]
                await callback.engine.call(callback, plain)

        reply: dict[str, Any] = await self._agents().send(agent, parts, on_update)
        return {**reply, "parts": [part_to_plain(p) for p in reply["parts"]]}

    async def a2a_get_task(self, agent: Any, task_id: Any) -> dict[str, Any]:
        _need(isinstance(agent, str) and isinstance(task_id, str), "A2A.get_task(agent, id)")
        task: dict[str, Any] = await self._agents().get_task(agent, task_id)
        return task

    # -- Prompt, Resource -------------------------------------------------------------------------

    def prompt_define(self, spec: Any) -> str:
        _need(isinstance(spec, dict), "Prompt.define{...} takes a table/object")
        name, handler = spec.get("name"), spec.get("handler")
        _need(
            isinstance(name, str) and name != "", "Prompt.define: name must be a non-empty string"
        )
        static = spec.get("messages")
        _need(
            isinstance(handler, ScriptFunction) or static is not None,
            "Prompt.define: give a handler function or messages",
        )
        arguments = []
        for arg in _list(spec.get("arguments"), "Prompt.define: arguments"):
            _need(
                isinstance(arg, dict) and isinstance(arg.get("name"), str),
                "Prompt.define: each argument is {name=..., description=..., required=...}",
            )
            arguments.append(
                PromptArgument(
                    arg["name"],
                    str(arg.get("description") or ""),
                    bool(arg.get("required")),
                    self._completer(arg.get("complete"), f"argument {arg['name']!r}"),
                )
            )

        async def render(args: dict[str, str]) -> list[PromptMessage]:
            value = await handler.engine.call(handler, args) if handler is not None else static
            return prompt_messages(value, name)

        self.runtime.prompts.register(
            Prompt(name, render, str(spec.get("description") or ""), tuple(arguments), self.source),
            replace=name in self.prompts,
        )
        if name not in self.prompts:
            self.prompts.append(name)
        return str(name)

    def resource_define(self, spec: Any) -> str:
        _need(isinstance(spec, dict), "Resource.define{...} takes a table/object")
        uri, handler = spec.get("uri"), spec.get("handler")
        _need(isinstance(uri, str) and uri != "", "Resource.define: uri must be a non-empty string")
        mime = spec.get("mime_type")
        static = {k: spec[k] for k in ("text", "blob") if k in spec}
        _need(
            isinstance(handler, ScriptFunction) or bool(static),
            "Resource.define: give text, blob or a handler function",
        )

        async def read(target: str, params: dict[str, str]) -> list[ResourcePart]:
            value = (
                await handler.engine.call(handler, target, params)
                if handler is not None
                else static
            )
            return resource_contents(value, target, mime)

        complete = {
            var: c
            for var, fn in _object(spec.get("complete"), "Resource.define: complete").items()
            if (c := self._completer(fn, f"variable {var!r}")) is not None
        }
        self.runtime.resources.register(
            Resource(
                uri,
                str(spec.get("name") or uri),
                read,
                str(spec.get("description") or ""),
                mime if isinstance(mime, str) else None,
                complete,
                self.source,
            ),
            replace=uri in self.resources,
        )
        if uri not in self.resources:
            self.resources.append(uri)
        return str(uri)

    def _completer(self, value: Any, what: str) -> Completer | None:
        """`complete` is a list of values (filtered by prefix) or a function(value, args)."""
        if value is None:
            return None
        if isinstance(value, ScriptFunction):
            fn = value

            async def ask(partial: str, context: dict[str, str]) -> list[str]:
                found = await fn.engine.call(fn, partial, context)
                return [str(v) for v in found] if isinstance(found, list) else []

            return ask
        _need(isinstance(value, list), f"complete for {what} is a list or a function")
        values = [str(v) for v in value]

        async def by_prefix(partial: str, context: dict[str, str]) -> list[str]:
            return [v for v in values if v.startswith(partial)]

        return by_prefix

    # -- Agent ----------------------------------------------------------------------------------

    def agent_create(self, spec: Any) -> HostObject:
        from llmspell.adapters.llm.agent import Agent, AgentSpec
        from llmspell.adapters.tools.files import Roots

        _need(isinstance(spec, dict), "Agent.create{...} takes a table/object")
        roots = Roots.of(self.roots)

        async def load_image(path: str) -> bytes:
            return await roots.read_bytes("agent", path)

        agent = Agent(AgentSpec.from_plain(spec), self.runtime.pipeline, load_image=load_image)
        name = agent.spec.name
        self.runtime.catalog.register(agent.component(), replace=name in self.defined)
        if name not in self.defined:
            self.defined.append(name)
        ref = len(self.agents) + 1
        self.agents[ref] = agent
        return HostObject("Agent", ref, {"name": name, "model": agent.spec.model.label})

    def agent_define(self, spec: Any) -> str:
        """`Agent.define{name=, description=, skills=, input_modes=, output_modes=,
        handler=function(message, task) ... end}`: an agent written in the script, which
        drives its own task (status, artifacts, input-required, a direct reply). Served over A2A
        as it is, over MCP as a tool whose status updates are progress."""
        _need(isinstance(spec, dict), "Agent.define{...} takes a table/object")
        name, handler = spec.get("name"), spec.get("handler")
        _need(isinstance(name, str) and name != "", "Agent.define: name must be a non-empty string")
        _need(isinstance(handler, ScriptFunction), "Agent.define: handler must be a function")
        description = str(spec.get("description") or "")
        skills = tuple(
            _skill(item, f"Agent.define {name!r}: skills")
            for item in _list(spec.get("skills"), "Agent.define: skills")
        )
        modes = {
            key: tuple(_strings(spec.get(key), f"Agent.define: {key}"))
            for key in ("input_modes", "output_modes")
        }

        async def call(inv: Invocation) -> Result:
            task = TaskReporter(inv)
            message = inv.message or TaskMessage(_message_parts(inv.arguments))
            self._next_call += 1
            ref = self._next_call
            self.tasks[ref] = task
            try:
                fields = {"agent": name, "id": message.task_id, "context_id": message.context_id}
                value = await handler.engine.call(
                    handler, message_to_plain(message), HostObject("Task", ref, fields)
                )
            finally:
                del self.tasks[ref]
            return await task.result(None if value is None else Result.from_plain(value))

        self.runtime.catalog.register(
            Component(
                name=name,
                handler=call,
                kind="agent",
                description=description,
                input_schema={
                    "type": "object",
                    "properties": {"text": {"type": "string", "description": "The message."}},
                },
                source=self.source,
                task_aware=True,
                skills=skills,
                input_modes=modes["input_modes"],
                output_modes=modes["output_modes"],
            ),
            replace=name in self.defined,
        )
        if name not in self.defined:
            self.defined.append(name)
        return str(name)

    # -- the `task` a hosted agent's handler gets ---------------------------------------------

    def _task(self, ref: Any) -> TaskReporter:
        task = self.tasks.get(ref)
        _need(task is not None, "this task's handler has returned: use task only while it runs")
        assert task is not None
        return task

    async def task_working(self, ref: Any, message: Any = None) -> None:
        await self._task(ref).working(task_parts(message, "task:working"))

    async def task_artifact(self, ref: Any, spec: Any) -> str:
        task = self._task(ref)
        if not isinstance(spec, dict) or "parts" not in spec:
            spec = {"parts": spec}
        name, artifact_id = spec.get("name"), spec.get("id")
        _need(name is None or isinstance(name, str), "task:artifact: name must be a string")
        _need(artifact_id is None or isinstance(artifact_id, str), "task:artifact: id is a string")
        return await task.artifact(
            task_parts(spec.get("parts"), "task:artifact"),
            name=name,
            artifact_id=artifact_id,
            append=bool(spec.get("append")),
            last_chunk=bool(spec.get("last_chunk")),
        )

    async def task_complete(self, ref: Any, message: Any = None) -> None:
        await self._task(ref).finish("completed", task_parts(message, "task:complete"))

    async def task_fail(self, ref: Any, message: Any = None) -> None:
        await self._task(ref).finish("failed", task_parts(message, "task:fail"))

    async def task_reject(self, ref: Any, message: Any = None) -> None:
        await self._task(ref).finish("rejected", task_parts(message, "task:reject"))

    async def task_require_input(self, ref: Any, message: Any = None) -> None:
        await self._task(ref).finish("input_required", task_parts(message, "task:require_input"))

    async def task_reply(self, ref: Any, message: Any = None) -> None:
        await self._task(ref).reply(task_parts(message, "task:reply"))

    def task_cancelled(self, ref: Any) -> bool:
        task = self.tasks.get(ref)
        return task is None or task.inv.cancel.cancelled

    def _agent_input(self, ref: Any, value: Any) -> tuple[Any, str, list[Any]]:
        agent = self.agents.get(ref)
        _need(agent is not None, "not an agent: call methods on what Agent.create returned")
        if isinstance(value, str):
            return agent, value, []
        _need(
            isinstance(value, dict) and isinstance(value.get("text"), str),
            "agent input is a string or {text=..., images=...}",
        )
        images = value.get("images") or []
        _need(isinstance(images, list), "images is a list of file paths, bytes or URLs")
        return agent, value["text"], images

    async def agent_execute(self, ref: Any, value: Any) -> dict[str, Any]:
        agent, text, images = self._agent_input(ref, value)
        reply = await agent.execute(text, images)
        return dict(reply.to_plain())

    async def agent_stream(self, ref: Any, value: Any, callback: Any) -> dict[str, Any]:
        agent, text, images = self._agent_input(ref, value)
        _need(isinstance(callback, ScriptFunction), "stream(input, fn): fn must be a function")

        async def on_chunk(chunk: str) -> None:
            await callback.engine.call(callback, chunk)

        reply = await agent.execute(text, images, on_chunk=on_chunk)
        return dict(reply.to_plain())

    async def aclose(self) -> None:
        for agent in self.agents.values():
            await agent.aclose()
        if self.runtime.remote is not None:
            for name in self.servers:
                await self.runtime.remote.disconnect(name)
        self.servers.clear()

    # -- State, Event, Hook ---------------------------------------------------------------------

    async def state_set(self, key: Any, value: Any) -> None:
        _need(isinstance(key, str), "State.set(key, value): key must be a string")
        await self.runtime.state.set(key, value)

    async def state_keys(self, prefix: Any = None) -> list[str]:
        return await self.runtime.state.keys(prefix or "")

    async def event_publish(self, topic: Any, data: Any = None) -> int:
        _need(isinstance(topic, str), "Event.publish(topic, data): topic must be a string")
        return await self.runtime.events.publish(topic, data)

    def event_subscribe(self, pattern: Any, fn: Any) -> int:
        _need(isinstance(pattern, str), "Event.subscribe(pattern, fn): pattern must be a string")
        _need(isinstance(fn, ScriptFunction), "Event.subscribe(pattern, fn): fn must be a function")

        async def deliver(topic: str, data: Any) -> None:
            await fn.engine.call(fn, topic, data)

        return self.runtime.events.subscribe(pattern, deliver)

    def hook_register(self, point: Any, fn: Any, opts: Any = None) -> int:
        _need(isinstance(point, str), "Hook.register(point, fn, opts): point must be a string")
        _need(
            isinstance(fn, ScriptFunction), "Hook.register(point, fn, opts): fn must be a function"
        )
        options = _object(opts, "Hook.register(point, fn, opts): opts")

        async def hook(ctx: dict[str, Any]) -> Any:
            return await fn.engine.call(fn, ctx)

        try:
            return self.runtime.hooks.register(
                point,
                hook,
                priority=options.get("priority", "normal"),
                match=options.get("match"),
                name=str(options.get("name") or ""),
            )
        except ValueError as exc:
            raise ScriptAPIError(_API_ERROR, str(exc)) from None

    # -- output --------------------------------------------------------------------------------

    def print(self, *parts: Any) -> None:
        self.stdout("\t".join(_display(p) for p in parts) + "\n")

    def log(self, level: str, parts: tuple[Any, ...], inv: Invocation | None) -> None:
        """To stderr at or above `log_level`, and to the caller of `inv` when it listens."""
        text = " ".join(_display(p) for p in parts)
        if _LEVEL_NUMBER[level] >= self.log_level:
            self.stderr(f"[{_LABEL.get(level, level.upper())}] {text}\n")
        if inv is not None and inv.peer is not None:
            inv.peer.log(level, text, self.source)


@dataclass(slots=True)
class ScriptPeer:
    """A script answering an MCP server's own requests (`MCP.connect{on_sample=, on_elicit=}`)
    when no downstream client is there to: `llmspell run` has none."""

    on_sample: ScriptFunction | None = None
    on_elicit: ScriptFunction | None = None

    def supports(self, feature: str) -> bool:
        return (feature == "sampling" and self.on_sample is not None) or (
            feature == "elicitation" and self.on_elicit is not None
        )

    async def sample(self, request: SamplingRequest) -> SamplingReply:
        fn = self.on_sample
        assert fn is not None
        value = await fn.engine.call(
            fn,
            {
                "messages": [
                    {"role": m.role, "content": part_to_plain(m.content)} for m in request.messages
                ],
                "text": "\n".join(
                    m.content.text for m in request.messages if isinstance(m.content, TextPart)
                ),
                "max_tokens": request.max_tokens,
                "system_prompt": request.system_prompt,
            },
        )
        if isinstance(value, dict):
            return SamplingReply(TextPart(str(value.get("text", ""))), value.get("model"))
        return SamplingReply(TextPart(_display(value)), "script")

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitReply:
        fn = self.on_elicit
        assert fn is not None
        value = await fn.engine.call(fn, {"message": message, "schema": schema})
        _need(
            isinstance(value, dict) and value.get("action") in ("accept", "decline", "cancel"),
            "on_elicit returns {action = accept|decline|cancel, content = {...}}",
        )
        content = value.get("content")
        return ElicitReply(value["action"], dict(content) if isinstance(content, dict) else None)

    def log(self, level: str, data: Any, logger: str | None = None) -> None:
        return None


def sync(fn: Callable[..., Any]) -> HostFunction:
    return HostFunction(fn)


def async_(fn: Callable[..., Any]) -> HostFunction:
    return HostFunction(fn, is_async=True)


def notify(fn: Callable[..., Any]) -> HostFunction:
    return HostFunction(fn, notify=True)


async def sleep(seconds: Any) -> None:
    _need(isinstance(seconds, int | float) and seconds >= 0, "sleep(seconds) takes a number >= 0")
    await asyncio.sleep(float(seconds))


def json_encode(value: Any, opts: Any = None) -> str:
    """Canonical JSON (sorted keys) so Lua tables and JS objects encode identically."""
    indent = opts.get("indent") if isinstance(opts, dict) else None
    separators = (",", ":") if indent is None else None
    try:
        return json.dumps(
            value,
            sort_keys=True,
            ensure_ascii=False,
            indent=indent,
            separators=separators,
            default=_unencodable,
        )
    except (TypeError, ValueError) as exc:
        raise ScriptAPIError(_API_ERROR, f"JSON.encode: {exc}") from None


def json_decode(text: Any) -> Any:
    _need(isinstance(text, str), "JSON.decode(text): text must be a string")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScriptAPIError(_API_ERROR, f"JSON.decode: {exc}") from None


def _unencodable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"cannot encode a {type(value).__name__}")


def _shown(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "<function>" if isinstance(value, ScriptFunction) else f"<{type(value).__name__}>"


def _display(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(
            value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_shown
        )
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


_API_ERROR = ErrorCode.INVALID_ARGUMENTS
_LABEL = {"warning": "WARN"}
_LEVEL_NUMBER = dict(zip(LOG_LEVELS, (10, 20, 25, 30, 40, 50, 50, 50), strict=True))


def sampling_request(value: Any) -> SamplingRequest:
    """`ctx:sample("prompt")` or `ctx:sample{messages=..., max_tokens=..., system_prompt=...}`."""
    if isinstance(value, str):
        value = {"prompt": value}
    _need(isinstance(value, dict), "ctx:sample takes a prompt string or a table/object")
    messages = value.get("messages")
    if messages is None:
        _need(isinstance(value.get("prompt"), str), "ctx:sample: give prompt or messages")
        messages = value["prompt"]
    temperature = value.get("temperature")
    system = value.get("system_prompt")
    return SamplingRequest(
        prompt_messages(messages, "ctx:sample"),
        int(value.get("max_tokens") or 1000),
        system if isinstance(system, str) else None,
        float(temperature) if isinstance(temperature, int | float) else None,
    )


def prompt_messages(value: Any, what: str) -> list[PromptMessage]:
    """A string, one {role, content} message, or a list of strings and messages; content is a
    string or a content part (`{type="image", data=..., mime_type=...}`)."""
    if isinstance(value, str | dict):
        value = [value]
    _need(isinstance(value, list), f"{what}: messages are a string, a message or a list")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(PromptMessage("user", TextPart(item)))
            continue
        _need(isinstance(item, dict), f"{what}: a message is a string or {{role, content}}")
        role = item.get("role", "user")
        _need(role in ("user", "assistant"), f"{what}: role is user or assistant")
        content = item.get("content", "")
        try:
            part = TextPart(content) if isinstance(content, str) else part_from_plain(content)
        except (ValueError, KeyError, TypeError) as exc:
            raise ScriptAPIError(_API_ERROR, f"{what}: {exc}") from None
        out.append(PromptMessage(role, part))
    return out


def resource_contents(value: Any, uri: str, mime: Any) -> list[ResourcePart]:
    """What a resource handler returns: a string (text), bytes (blob), {text=...}/{blob=...},
    or a list of those (each may name its own uri)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            item = {"text": item}
        elif isinstance(item, bytes):
            item = {"blob": item}
        _need(isinstance(item, dict), "a resource handler returns text, bytes or {text|blob}")
        item = {"mime_type": mime, **item}
        try:
            out.append(resource_from_plain(item, uri))
        except (ValueError, TypeError) as exc:
            raise ScriptAPIError(_API_ERROR, f"resource {uri!r}: {exc}") from None
    return out


def message_to_plain(message: TaskMessage) -> dict[str, Any]:
    """A hosted agent's `message`: ids, parts (text / data / file with name, media type and
    bytes or url), metadata, and `text`, all its text parts joined."""
    return {
        "id": message.id,
        "context_id": message.context_id,
        "task_id": message.task_id,
        "parts": [_task_part_to_plain(p) for p in message.parts],
        "metadata": message.metadata,
        "text": "\n".join(p.text for p in message.parts if isinstance(p, TextPart)),
    }


def _task_part_to_plain(part: RuntimePart) -> dict[str, Any]:
    if isinstance(part, BlobPart):
        out = {"type": "file", "media_type": part.mime_type, "bytes": part.data}
        return {**out, "name": part.name} if part.name else out
    if isinstance(part, ResourceLink):
        plain = {"type": "file", "url": part.uri, "name": part.name, "media_type": part.mime_type}
        return {k: v for k, v in plain.items() if v is not None}
    return part_to_plain(part)


def task_parts(value: Any, what: str) -> list[RuntimePart]:
    """What a task method takes: nothing, a string, one part or a list of them. A part is
    `{type="text", text=}`, `{type="data", data=}` or `{type="file", name=, media_type=,
    bytes= | url=}`; the type may be left out when the keys say it."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    parts: list[RuntimePart] = []
    for item in items:
        if isinstance(item, str):
            parts.append(TextPart(item))
            continue
        _need(isinstance(item, dict), f"{what}: a part is a string or a table/object")
        given = item.get("type")
        kind = (
            given
            if isinstance(given, str)
            else next((t for k, t in _PART_KEYS.items() if k in item), None)
        )
        if kind == "text":
            parts.append(TextPart(str(item.get("text", ""))))
        elif kind == "file":
            parts.append(_file_part(item, what))
        elif kind == "data":
            parts.append(DataPart(item.get("data")))
        else:
            try:
                parts.append(part_from_plain(item))
            except (ValueError, KeyError, TypeError) as exc:
                raise ScriptAPIError(_API_ERROR, f"{what}: {exc}") from None
    return parts


_PART_KEYS = {"text": "text", "bytes": "file", "url": "file", "data": "data"}
"""Which key tells a part's type when `type` is left out."""


def _file_part(item: dict[str, Any], what: str) -> RuntimePart:
    name = item.get("name")
    media = item.get("media_type") or item.get("mime_type")
    _need(name is None or isinstance(name, str), f"{what}: a file's name is a string")
    _need(media is None or isinstance(media, str), f"{what}: a file's media_type is a string")
    if isinstance(item.get("url"), str):
        return ResourceLink(item["url"], name, media)
    raw = item.get("bytes")
    if raw is None and "data" in item:
        try:
            return part_from_plain(
                {**item, "type": "file", "mime_type": media or "application/octet-stream"}
            )
        except (ValueError, TypeError) as exc:
            raise ScriptAPIError(_API_ERROR, f"{what}: {exc}") from None
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    _need(isinstance(raw, bytes), f"{what}: a file part has bytes or url")
    assert isinstance(raw, bytes)
    return BlobPart(raw, media or "application/octet-stream", name)


def _message_parts(arguments: dict[str, Any]) -> list[RuntimePart]:
    """A hosted agent called as a tool: `{text}` is a text message, anything else data."""
    if set(arguments) == {"text"} and isinstance(arguments["text"], str):
        return [TextPart(arguments["text"])]
    return [DataPart(arguments)] if arguments else []


def _skill(value: Any, what: str) -> Skill:
    """A skill is a name, or `{id=, name=, description=, tags=, examples=}`."""
    if isinstance(value, str):
        return Skill(value, value)
    _need(isinstance(value, dict), f"{what}: a skill is a name or a table/object")
    ident = value.get("id") or value.get("name")
    _need(isinstance(ident, str) and ident != "", f"{what}: a skill needs an id or a name")
    return Skill(
        ident,
        str(value.get("name") or ident),
        str(value.get("description") or ""),
        tuple(_strings(value.get("tags"), f"{what}: tags")),
        tuple(_strings(value.get("examples"), f"{what}: examples")),
    )


def _strings(value: Any, what: str) -> list[str]:
    items = _list(value, what)
    _need(all(isinstance(i, str) for i in items), f"{what} must be a list of strings")
    return items


def _list(value: Any, what: str) -> list[Any]:
    if value is None or value == {}:
        return []
    _need(isinstance(value, list), f"{what} must be a list")
    return list(value)


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise ScriptAPIError(_API_ERROR, message)


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, list) and not value:
        return {}
    _need(isinstance(value, dict), f"{what} must be a table/object")
    return dict(value)
