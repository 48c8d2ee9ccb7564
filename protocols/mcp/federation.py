"""Remote MCP servers folded into one runtime: their tools and prompts as `<server>.<name>`,
their resources by URI, kept in step with each server's listing.

A server that goes down keeps its tools listed (clients' tool lists stay stable through a
restart); calling one while it is down tries to reconnect at once and otherwise fails with an
`unavailable` error that names the server and why. A server never reached lists nothing.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from llmspell.runtime import (
    Component,
    ErrorCode,
    Invocation,
    LLMSpellError,
    Prompt,
    PromptArgument,
    PromptMessage,
    Resource,
    ResourcePart,
    Runtime,
)
from llmspell.runtime.peer import Peer
from pydantic import ValidationError

from . import translate
from .client import ServerSpec, Upstream, expand_env

logger = logging.getLogger("llmspell.upstream")

DEFAULT_SEPARATOR = "."


@dataclass
class _Offered:
    """What one upstream currently contributes, with the wire form it came from."""

    tools: dict[str, tuple[types.Tool, Component]] = field(default_factory=dict)
    prompts: dict[str, types.Prompt] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)


class Federation:
    def __init__(
        self, runtime: Runtime, *, separator: str = DEFAULT_SEPARATOR, startup_wait: float = 5.0
    ) -> None:
        self.runtime = runtime
        self.separator = separator
        self.startup_wait = startup_wait
        self.upstreams: dict[str, Upstream] = {}
        self._offered: dict[str, _Offered] = {}

    # -- servers --------------------------------------------------------------------------------

    async def start(self, specs: Iterable[ServerSpec]) -> None:
        """Open every enabled server in parallel; each gets `startup_wait` seconds before the
        gateway serves without it (it joins the catalog when it comes up)."""
        await asyncio.gather(
            *(self.add(s, wait=self.startup_wait) for s in specs if not s.disabled)
        )

    async def add(
        self, spec: ServerSpec, *, wait: float | None, peer: Peer | None = None
    ) -> Upstream:
        if not spec.name:
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, "an MCP server needs a name")
        if spec.name in self.upstreams:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, f"MCP server {spec.name!r} is already connected"
            )
        upstream = Upstream(
            spec,
            on_listing=self._sync,
            on_resource_updated=self.runtime.resources.updated,
            fallback=peer,
        )
        self.upstreams[spec.name] = upstream
        self._offered[spec.name] = _Offered()
        await upstream.start(wait)
        return upstream

    async def remove(self, name: str) -> None:
        upstream = self.upstreams.pop(name, None)
        if upstream is None:
            return
        await upstream.aclose()
        self._withdraw(name)

    async def aclose(self) -> None:
        await asyncio.gather(*(self.remove(n) for n in list(self.upstreams)))

    # -- the RemoteServers port (scripts) -------------------------------------------------------

    async def connect(self, spec: Mapping[str, Any], *, peer: Peer | None = None) -> dict[str, Any]:
        try:
            parsed = ServerSpec.model_validate(expand_env(dict(spec)))
        except ValidationError as exc:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, f"MCP.connect: {_problems(exc)}"
            ) from None
        except KeyError as exc:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, f"MCP.connect: environment variable {exc} is not set"
            ) from None
        upstream = await self.add(parsed, wait=parsed.connect_timeout, peer=peer)
        if upstream.state != "ready":
            error = upstream.error
            await self.remove(parsed.name)
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"MCP server {parsed.name!r} could not be reached: {error or 'timed out'}",
                data={"server": parsed.name},
            )
        return {**upstream.status(), "tool_names": [t["name"] for t in self.tools(parsed.name)]}

    async def disconnect(self, name: str) -> None:
        await self.remove(name)

    def servers(self) -> list[dict[str, Any]]:
        """Each upstream's status; `tools` counts what it adds to the catalog (after filters)."""
        return [
            {**u.status(), "tools": len(self._offered.get(name, _Offered()).tools)}
            for name, u in self.upstreams.items()
        ]

    def tools(self, server: str) -> list[dict[str, Any]]:
        if server not in self._offered:
            raise LLMSpellError(
                ErrorCode.UNKNOWN_COMPONENT,
                f"no MCP server named {server!r}; connected: {', '.join(self.upstreams) or 'none'}",
            )
        return [
            {
                "name": c.name,
                "description": c.description,
                "input_schema": c.input_schema,
                "server": server,
                "tool": wire.name,
            }
            for wire, c in self._offered[server].tools.values()
        ]

    # -- keeping the catalog in step with a listing ---------------------------------------------

    def _sync(self, upstream: Upstream) -> None:
        offered = self._offered.get(upstream.name)
        if offered is None:
            return
        self._sync_tools(upstream, offered)
        self._sync_prompts(upstream, offered)
        self._sync_resources(upstream, offered)

    def _allowed(self, spec: ServerSpec, tool: str) -> bool:
        if spec.include and not any(fnmatch.fnmatchcase(tool, g) for g in spec.include):
            return False
        return not any(fnmatch.fnmatchcase(tool, g) for g in spec.exclude)

    def _sync_tools(self, upstream: Upstream, offered: _Offered) -> None:
        catalog = self.runtime.catalog
        wanted = {
            f"{upstream.name}{self.separator}{t.name}": t
            for t in upstream.listing.tools
            if self._allowed(upstream.spec, t.name)
        }
        for name in [n for n in offered.tools if n not in wanted]:
            del offered.tools[name]
            catalog.unregister(name)
        for name, tool in wanted.items():
            known = offered.tools.get(name)
            if known is not None and known[0] == tool:
                continue
            existing = catalog.find(name)
            if existing is not None and known is None:
                logger.warning(
                    "%s: %s is taken by %s; skipped", upstream.name, name, existing.source
                )
                continue
            component = self._component(upstream, name, tool)
            catalog.register(component, replace=known is not None)
            offered.tools[name] = (tool, component)

    def _component(self, upstream: Upstream, name: str, tool: types.Tool) -> Component:
        hints = translate.tool_annotations(tool.annotations)
        safe = bool(hints.idempotent or hints.read_only)

        async def call(inv: Invocation) -> Any:
            return await upstream.call_tool(tool.name, inv, safe=safe)

        return Component(
            name=name,
            handler=call,
            kind="tool",
            description=tool.description or tool.title or "",
            input_schema=dict(tool.input_schema),
            output_schema=dict(tool.output_schema) if tool.output_schema else None,
            annotations=hints,
            source=f"mcp:{upstream.name}",
        )

    def _sync_prompts(self, upstream: Upstream, offered: _Offered) -> None:
        registry = self.runtime.prompts
        wanted = {f"{upstream.name}{self.separator}{p.name}": p for p in upstream.listing.prompts}
        for name in [n for n in offered.prompts if n not in wanted]:
            del offered.prompts[name]
            registry.unregister(name)
        for name, prompt in wanted.items():
            if offered.prompts.get(name) == prompt:
                continue
            try:
                registry.register(
                    self._prompt(upstream, name, prompt), replace=name in offered.prompts
                )
            except ValueError as exc:
                logger.warning("%s: %s; skipped", upstream.name, exc)
                continue
            offered.prompts[name] = prompt

    def _prompt(self, upstream: Upstream, name: str, prompt: types.Prompt) -> Prompt:
        async def render(args: dict[str, str]) -> list[PromptMessage]:
            result = await upstream.request(
                name, None, lambda client: client.get_prompt(prompt.name, args)
            )
            return [PromptMessage(m.role, translate.part(m.content)) for m in result.messages]

        return Prompt(
            name,
            render,
            prompt.description or "",
            tuple(
                PromptArgument(a.name, a.description or "", bool(a.required))
                for a in prompt.arguments or []
            ),
            f"mcp:{upstream.name}",
        )

    def _sync_resources(self, upstream: Upstream, offered: _Offered) -> None:
        registry = self.runtime.resources
        listing = upstream.listing
        wanted: dict[str, Any] = {str(r.uri): r for r in listing.resources}
        wanted.update({t.uri_template: t for t in listing.templates})
        for uri in [u for u in offered.resources if u not in wanted]:
            del offered.resources[uri]
            registry.unregister(uri)
        for uri, wire in wanted.items():
            if offered.resources.get(uri) == wire:
                continue
            try:
                registry.register(
                    Resource(
                        uri,
                        wire.name,
                        self._reader(upstream),
                        wire.description or "",
                        wire.mime_type,
                        source=f"mcp:{upstream.name}",
                    ),
                    replace=uri in offered.resources,
                )
            except ValueError as exc:
                logger.warning("%s: %s; skipped", upstream.name, exc)
                continue
            offered.resources[uri] = wire

    @staticmethod
    def _reader(upstream: Upstream) -> Any:
        async def read(uri: str, params: dict[str, str]) -> list[ResourcePart]:
            result = await upstream.request(uri, None, lambda client: client.read_resource(uri))
            return [translate.resource_part(c) for c in result.contents]

        return read

    def _withdraw(self, name: str) -> None:
        offered = self._offered.pop(name, None)
        if offered is None:
            return
        for tool in offered.tools:
            self.runtime.catalog.unregister(tool)
        for prompt in offered.prompts:
            self.runtime.prompts.unregister(prompt)
        for uri in offered.resources:
            self.runtime.resources.unregister(uri)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(spec)'}: {e['msg']}" for e in exc.errors()
    )
