"""`Prompt.define`: prompt templates the gateway serves over MCP (`prompts/list`, `prompts/get`)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Prompt, PromptArgument, PromptMessage
from llmspell.runtime.prompts import Completer

from ..engine import HostFunction, ScriptFunction
from .arguments import as_list, need, part
from .binding import sync

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {"define": sync(partial(define, host))}


def define(host: ScriptHost, spec: Any) -> str:
    need(isinstance(spec, dict), "Prompt.define{...} takes a table/object")
    name, handler = spec.get("name"), spec.get("handler")
    need(isinstance(name, str) and name != "", "Prompt.define: name must be a non-empty string")
    static = spec.get("messages")
    need(
        isinstance(handler, ScriptFunction) or static is not None,
        "Prompt.define: give a handler function or messages",
    )
    arguments = []
    for arg in as_list(spec.get("arguments"), "Prompt.define: arguments"):
        need(
            isinstance(arg, dict) and isinstance(arg.get("name"), str),
            "Prompt.define: each argument is {name=..., description=..., required=...}",
        )
        arguments.append(
            PromptArgument(
                arg["name"],
                str(arg.get("description") or ""),
                bool(arg.get("required")),
                completer(arg.get("complete"), f"argument {arg['name']!r}"),
            )
        )

    async def render(args: dict[str, str]) -> list[PromptMessage]:
        value = await handler.engine.call(handler, args) if handler is not None else static
        return prompt_messages(value, name)

    mine = name in host.prompts
    host.runtime.prompts.register(
        Prompt(name, render, str(spec.get("description") or ""), tuple(arguments), host.source),
        replace=mine,
    )
    if not mine:
        host.prompts.append(name)
    return str(name)


def completer(value: Any, what: str) -> Completer | None:
    """`complete` is a list of values (filtered by prefix) or a function(value, args)."""
    if value is None:
        return None
    if isinstance(value, ScriptFunction):
        fn = value

        async def ask(partial: str, context: dict[str, str]) -> list[str]:
            found = await fn.engine.call(fn, partial, context)
            return [str(v) for v in found] if isinstance(found, list) else []

        return ask
    need(isinstance(value, list), f"complete for {what} is a list or a function")
    values = [str(v) for v in value]

    async def by_prefix(partial: str, context: dict[str, str]) -> list[str]:
        return [v for v in values if v.startswith(partial)]

    return by_prefix


def prompt_messages(value: Any, what: str) -> list[PromptMessage]:
    """A string, one {role, content} message, or a list of strings and messages; content is a
    string or a content part (`{type="image", data=..., mime_type=...}`)."""
    if isinstance(value, str | dict):
        value = [value]
    need(isinstance(value, list), f"{what}: messages are a string, a message or a list")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(PromptMessage("user", part(item, what)))
            continue
        need(isinstance(item, dict), f"{what}: a message is a string or {{role, content}}")
        role = item.get("role", "user")
        need(role in ("user", "assistant"), f"{what}: role is user or assistant")
        out.append(PromptMessage(role, part(item.get("content", ""), what)))
    return out
