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
    Component,
    ErrorCode,
    Invocation,
    LLMSpellError,
    Result,
    Runtime,
)
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
                "Agent": {"create": sync(self.agent_create)},
                "Log": {
                    "debug": notify(lambda *m: self.log(10, "DEBUG", m)),
                    "info": notify(lambda *m: self.log(20, "INFO", m)),
                    "warn": notify(lambda *m: self.log(30, "WARN", m)),
                    "error": notify(lambda *m: self.log(40, "ERROR", m)),
                },
            },
            functions={"print": notify(self.print), "sleep": async_(sleep)},
            values={"ARGS": list(self.args)},
            types={
                "Agent": {
                    "execute": async_(self.agent_execute),
                    "stream": HostFunction(self.agent_stream, is_async=True, stream=True),
                }
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
            return Result.from_plain(await handler.engine.call(handler, inv.arguments))

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

    def log(self, level: int, label: str, parts: tuple[Any, ...]) -> None:
        if level >= self.log_level:
            self.stderr(f"[{label}] " + " ".join(_display(p) for p in parts) + "\n")


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
