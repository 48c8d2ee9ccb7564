"""Remote MCP servers folded into one runtime: their tools and prompts as `<server>.<name>`,
their resources by URI, kept in step with each server's listing.

A server that goes down keeps its tools listed (clients' tool lists stay stable through a
restart); calling one while it is down tries to reconnect at once and otherwise fails with an
`unavailable` error that names the server and why. A server never reached lists nothing.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    Result,
    Runtime,
)
from llmspell.runtime.hooks import fire
from llmspell.runtime.invocation import Identity
from llmspell.runtime.peer import Peer

from . import translate
from .background import spawn
from .client import Upstream
from .credentials import Exchanger
from .oauth import with_oauth_env
from .spec import ServerSpec, parse_spec

if TYPE_CHECKING:
    from .oauth_upstream import OAuthUpstream
    from .token_store import TokenVault

logger = logging.getLogger("llmspell.upstream")

DEFAULT_SEPARATOR = "."


@dataclass
class _Offered:
    """What one upstream currently contributes, with the wire form it came from."""

    tools: dict[str, types.Tool] = field(default_factory=dict)
    prompts: dict[str, types.Prompt] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)


CALLER_SESSIONS = 64
"""Per-caller sessions kept per pass-through server; the least recently used one is closed."""


class Federation:
    def __init__(
        self,
        runtime: Runtime,
        *,
        separator: str = DEFAULT_SEPARATOR,
        startup_wait: float = 5.0,
        tokens: Callable[[], Awaitable[TokenVault]] | None = None,
    ) -> None:
        self.runtime = runtime
        self._tokens = tokens
        """Opens the vault `auth = "oauth"` servers keep tokens in (the gateway's state store);
        None: tokens in memory, for this process only."""
        self._vault: TokenVault | None = None
        self.separator = separator
        self.startup_wait = startup_wait
        self.upstreams: dict[str, Upstream] = {}
        self._offered: dict[str, _Offered] = {}
        self._callers: dict[str, OrderedDict[str, Upstream]] = {}
        """Per-caller sessions of `auth = "passthrough"` servers, by server, then token digest."""
        self._exchangers: dict[str, Exchanger] = {}

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
            oauth=await self._oauth(spec) if spec.auth == "oauth" else None,
        )
        self.upstreams[spec.name] = upstream
        self._offered[spec.name] = _Offered()
        await upstream.start(wait)
        return upstream

    async def _oauth(self, spec: ServerSpec) -> OAuthUpstream:
        from .oauth_upstream import OAuthUpstream

        if self._tokens is None:  # no state store: a script's own login, headless
            from .oauth import MemoryTokenStorage

            return OAuthUpstream(spec, MemoryTokenStorage(), "headless")
        if self._vault is None:
            self._vault = await self._tokens()
        return OAuthUpstream(spec, self._vault.storage(spec.name))

    async def remove(self, name: str) -> None:
        upstream = self.upstreams.pop(name, None)
        if upstream is None:
            return
        callers = self._callers.pop(name, OrderedDict())
        await asyncio.gather(upstream.aclose(), *(u.aclose() for u in callers.values()))
        self._withdraw(name)

    async def _for(self, upstream: Upstream, caller: Identity) -> Upstream:
        """The session a call goes over: the server's own, or (pass-through) the caller's,
        opened on first use with the caller's token and kept while it is among the most
        recently used."""
        spec = upstream.spec
        if spec.auth in ("service", "oauth"):
            return upstream
        if not caller.credential:
            raise LLMSpellError(
                ErrorCode.DENIED,
                f"upstream {upstream.name!r} takes the caller's own token, and this call has "
                "none (it needs the gateway's JWT auth)",
            )
        token = caller.credential
        if spec.auth == "exchange":
            assert spec.token_exchange is not None
            exchanger = self._exchangers.get(upstream.name)
            if exchanger is None:
                exchanger = self._exchangers[upstream.name] = Exchanger(spec.token_exchange)
            token = await exchanger.token_for(caller.credential)
        sessions = self._callers.setdefault(upstream.name, OrderedDict())
        key = hashlib.sha256(token.encode()).hexdigest()
        mine = sessions.get(key)
        if mine is not None:
            sessions.move_to_end(key)
            return mine
        bearer = {"Authorization": f"Bearer {token}"}
        spec = upstream.spec.model_copy(update={"headers": {**upstream.spec.headers, **bearer}})
        mine = sessions[key] = Upstream(spec, fallback=upstream.fallback)
        if len(sessions) > CALLER_SESSIONS:
            _, oldest = sessions.popitem(last=False)
            spawn(oldest.aclose())
        await mine.start(spec.connect_timeout)
        return mine

    async def aclose(self) -> None:
        await asyncio.gather(*(self.remove(n) for n in list(self.upstreams)))

    # -- the RemoteServers port (scripts) -------------------------------------------------------

    async def connect(self, spec: Mapping[str, Any], *, peer: Peer | None = None) -> dict[str, Any]:
        try:
            parsed = parse_spec(with_oauth_env(spec))
        except ValueError as exc:  # SpecError, or a bad oauth_env
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"MCP.connect: {exc}") from None
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
        catalog = self.runtime.catalog
        return [
            {
                "name": name,
                "description": catalog.get(name).description,
                "input_schema": catalog.get(name).input_schema,
                "server": server,
                "tool": wire.name,
            }
            for name, wire in self._offered[server].tools.items()
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
        _reconcile(
            upstream.name,
            offered.tools,
            wanted,
            lambda name, tool, replace: catalog.register(
                self._component(upstream, name, tool), replace=replace
            ),
            catalog.unregister,
        )

    def _component(self, upstream: Upstream, name: str, tool: types.Tool) -> Component:
        hints = translate.tool_annotations(tool.annotations)
        safe = bool(hints.idempotent or hints.read_only)

        hooks = self.runtime.hooks

        async def call(inv: Invocation) -> Result:
            said = {"server": upstream.name, "tool": tool.name, "caller": inv.caller.subject}
            if hooks.wants("before_upstream"):
                fired = await fire(
                    hooks, "before_upstream", {**said, "arguments": inv.arguments}, upstream.name
                )
                if fired.replaced:
                    return Result.from_plain(fired.result)
                if isinstance(fired.context.get("arguments"), dict):
                    inv.arguments = fired.context["arguments"]
            target = await self._for(upstream, inv.caller)
            result = await target.call_tool(tool.name, inv, safe=safe)
            if hooks.wants("after_upstream"):
                fired = await fire(
                    hooks, "after_upstream", {**said, "result": result.to_plain()}, upstream.name
                )
                result = Result.from_plain(fired.context["result"])
            return result

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
        _reconcile(
            upstream.name,
            offered.prompts,
            wanted,
            lambda name, prompt, replace: registry.register(
                self._prompt(upstream, name, prompt), replace=replace
            ),
            registry.unregister,
        )

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
        reader = self._reader(upstream)
        _reconcile(
            upstream.name,
            offered.resources,
            wanted,
            lambda uri, wire, replace: registry.register(
                Resource(
                    uri,
                    wire.name,
                    reader,
                    wire.description or "",
                    wire.mime_type,
                    source=f"mcp:{upstream.name}",
                ),
                replace=replace,
            ),
            registry.unregister,
        )

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


def _reconcile(
    server: str,
    have: dict[str, Any],
    wanted: dict[str, Any],
    register: Callable[[str, Any, bool], None],
    unregister: Callable[[str], None],
) -> None:
    """Bring one registry in step with an upstream's listing: withdraw what it no longer offers,
    (re)register what is new or changed. A name another provider already holds is skipped with
    a warning (the registries refuse it with ValueError)."""
    for key in [k for k in have if k not in wanted]:
        del have[key]
        unregister(key)
    for key, wire in wanted.items():
        if have.get(key) == wire:
            continue
        try:
            register(key, wire, key in have)
        except ValueError as exc:
            logger.warning("%s: %s; skipped", server, exc)
            continue
        have[key] = wire
