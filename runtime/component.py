"""A Component is anything invocable: plain data plus one handler (composition, not inheritance)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .content import Result
    from .invocation import Invocation

Kind = Literal["tool", "agent", "workflow", "prompt", "resource"]
"""Catalog components are tools, agents and workflows; prompts and resources take the kinds
`prompt` and `resource` only to pass the pipeline's gate (policy, limits, metrics)."""
Handler = Callable[["Invocation"], Awaitable["Result"]]

EMPTY_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}


@dataclass(frozen=True, slots=True)
class Annotations:
    """Behaviour hints, as MCP tool annotations define them."""

    title: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


@dataclass(frozen=True, slots=True)
class Skill:
    """One thing an agent can do, as an A2A card lists it."""

    id: str
    name: str
    description: str = ""
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    handler: Handler
    kind: Kind = "tool"
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=lambda: dict(EMPTY_OBJECT_SCHEMA))
    output_schema: dict[str, Any] | None = None
    annotations: Annotations = field(default_factory=Annotations)
    source: str = "builtin"
    """Which provider registered it (builtin, script:<file>, mcp:<server>...)."""
    task_aware: bool = False
    """It drives its own task life cycle through `Invocation.updates` (status, artifacts, a
    direct reply), so a protocol server adds nothing on its behalf."""
    skills: tuple[Skill, ...] = ()
    """What an agent declares it can do; empty means one skill, the component itself."""
    input_modes: tuple[str, ...] = ()
    """Media types an agent accepts (A2A `defaultInputModes`); empty means the server's."""
    output_modes: tuple[str, ...] = ()
    category: str | None = None
    """A built-in tool's shelf (files, data, utilities, system, media...), for listings."""

    def summary(self) -> dict[str, Any]:
        plain = {"name": self.name, "kind": self.kind, "description": self.description}
        return plain if self.category is None else {**plain, "category": self.category}
