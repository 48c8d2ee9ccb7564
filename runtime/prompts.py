"""Prompts: named message templates with arguments, as MCP serves them to clients.

A prompt is plain data plus a `render` callable; where it comes from (a script, an upstream
server) is the provider's business, as with components.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from .content import Part
from .errors import ErrorCode, LLMSpellError

Completer = Callable[[str, dict[str, str]], Awaitable[list[str]]]
"""(partial value, other arguments already given) -> suggestions."""


@dataclass(frozen=True, slots=True)
class PromptArgument:
    name: str
    description: str = ""
    required: bool = False
    complete: Completer | None = None


@dataclass(frozen=True, slots=True)
class PromptMessage:
    role: Literal["user", "assistant"]
    content: Part


Renderer = Callable[[dict[str, str]], Awaitable[builtins.list[PromptMessage]]]


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    render: Renderer
    description: str = ""
    arguments: tuple[PromptArgument, ...] = ()
    source: str = "builtin"

    def argument(self, name: str) -> PromptArgument | None:
        return next((a for a in self.arguments if a.name == name), None)


@dataclass(slots=True)
class PromptRegistry:
    _prompts: dict[str, Prompt] = field(default_factory=dict)
    _listeners: builtins.list[Callable[[], None]] = field(default_factory=builtins.list)

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def register(self, prompt: Prompt, *, replace: bool = False) -> None:
        existing = self._prompts.get(prompt.name)
        if existing is not None and not replace:
            raise ValueError(f"prompt {prompt.name!r} is already defined by {existing.source}")
        self._prompts[prompt.name] = prompt
        self._changed()

    def unregister(self, name: str) -> None:
        if self._prompts.pop(name, None) is not None:
            self._changed()

    def list(self) -> builtins.list[Prompt]:
        return builtins.list(self._prompts.values())

    def get(self, name: str) -> Prompt:
        prompt = self._prompts.get(name)
        if prompt is None:
            raise LLMSpellError(
                ErrorCode.UNKNOWN_COMPONENT, f"unknown prompt {name!r}", data={"name": name}
            )
        return prompt

    async def render(self, name: str, arguments: dict[str, str]) -> builtins.list[PromptMessage]:
        prompt = self.get(name)
        missing = [a.name for a in prompt.arguments if a.required and a.name not in arguments]
        if missing:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"prompt {name!r} is missing required argument(s): {', '.join(missing)}",
                data={"missing": missing},
            )
        return await prompt.render(arguments)

    def _changed(self) -> None:
        for listener in builtins.list(self._listeners):
            listener()
