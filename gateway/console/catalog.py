"""What the catalog page lists: tools, agents and workflows as the control API lists them to
this caller (so a policy that hides a component hides it here), each with what the API does not
carry (source, annotations, output schema) from the same catalog entry; prompts and resources
with the MCP server's own visibility rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from llmspell.protocols.asgi import caller
from llmspell.runtime import LOCAL, Runtime
from llmspell.runtime.runtime import gated
from starlette.types import Scope

KINDS = ("tool", "agent", "workflow", "prompt", "resource")


@dataclass(slots=True)
class Entry:
    name: str
    kind: str
    source: str
    description: str = ""
    category: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        """The source in words: built-in, script, federated server or remote agent."""
        kind, _, where = self.source.partition(":")
        names = {"mcp": "MCP server", "a2a": "remote A2A agent", "script": "script"}
        return f"{names.get(kind, kind)} {where}".strip() if where else kind

    @property
    def callable(self) -> bool:
        return self.kind in ("tool", "agent", "workflow")


def entries(runtime: Runtime, listed: list[dict[str, Any]], scope: Scope) -> list[Entry]:
    """`listed`: the API's `/components` answer for this caller."""
    out = []
    for item in listed:
        found = runtime.catalog.find(item["name"])
        out.append(
            Entry(
                item["name"],
                item["kind"],
                found.source if found is not None else "unknown",
                item.get("description", ""),
                item.get("category"),
                item.get("input_schema"),
                found.output_schema if found is not None else None,
                _annotations(found.annotations) if found is not None else {},
            )
        )
    who = caller(scope) or LOCAL
    pipeline = runtime.pipeline

    def visible(item: Any) -> bool:
        return pipeline.policy is None or pipeline.allows(who, gated(item))

    for prompt in runtime.prompts.list():
        if visible(prompt):
            arguments = {
                a.name: {"type": "string", "description": a.description} for a in prompt.arguments
            }
            schema = {"type": "object", "properties": arguments} if arguments else None
            out.append(
                Entry(prompt.name, "prompt", prompt.source, prompt.description, None, schema)
            )
    for resource in [*runtime.resources.list(), *runtime.resources.templates()]:
        if visible(resource):
            out.append(Entry(resource.uri, "resource", resource.source, resource.description))
    return sorted(out, key=lambda e: (KINDS.index(e.kind), e.name))


def _annotations(annotations: Any) -> dict[str, Any]:
    return {k: v for k, v in asdict(annotations).items() if v is not None}
