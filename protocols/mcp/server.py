"""The catalog served over MCP. Handlers translate and hand over to the runtime; the SDK's
low-level server owns JSON-RPC, the handshake, sessions and transports.

Every `tools/call` becomes an Invocation on the one pipeline, with the client behind it as the
call's Peer (sampling, elicitation, logs), MCP progress as its progress sink, and MCP
cancellation as its CancelToken. `prompts/get` and `resources/read` pass the same gate (policy,
limits, hooks, metrics), and every listing shows a caller only what the policy lets it use.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import mcp_types as types
from llmspell.runtime import (
    ErrorCode,
    Identity,
    Invocation,
    LLMSpellError,
    Prompt,
    Resource,
    Runtime,
)
from llmspell.runtime.runtime import gated
from mcp.server import Server
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import NotificationOptions
from mcp.server.models import InitializationOptions
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .. import asgi
from . import lean_server, sdk_private, translate
from .background import spawn
from .peer import McpPeer

logger = logging.getLogger(__name__)

Ctx = ServerRequestContext[Any, Any]
RESOURCE_NOT_FOUND = -32002
DEFAULT_LOG_LEVEL = "info"
MAX_COMPLETIONS = 100


class McpServer:
    """One MCP server over one runtime; serve it with `stdio.serve` or `http.app`."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        name: str = "llmspell",
        version: str = "",
        instructions: str | None = None,
    ) -> None:
        self.runtime = runtime
        self._connections: dict[int, Connection] = {}
        with warnings.catch_warnings():
            # logging/setLevel is deprecated from 2026-07-28 on, yet it is how every
            # handshake-era client (and the conformance suite) sets the level.
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            self.server: Server[Any] = Server(
                name,
                version=version,
                instructions=instructions,
                get_tool_input_schema=self._input_schema,
                on_list_tools=self._list_tools,
                on_call_tool=self._call_tool,
                on_list_prompts=self._list_prompts,
                on_get_prompt=self._get_prompt,
                on_list_resources=self._list_resources,
                on_list_resource_templates=self._list_templates,
                on_read_resource=self._read_resource,
                on_subscribe_resource=self._subscribe,
                on_unsubscribe_resource=self._unsubscribe,
                on_completion=self._complete,
                on_set_logging_level=self._set_level,
            )
        if runtime.pipeline.tracer is None:
            sdk_private.drop_tracing(self.server)  # the SDK's per-request span: only when tracing
        runtime.catalog.on_change(lambda change: self._broadcast("tools"))
        runtime.prompts.on_change(lambda: self._broadcast("prompts"))
        runtime.resources.on_change(lambda: self._broadcast("resources"))
        runtime.resources.on_update(self._resource_updated)

    def initialization_options(self) -> InitializationOptions:
        return self.server.create_initialization_options(
            NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
        )

    # -- connections: levels, subscriptions, change notifications -------------------------------

    def _connection(self, ctx: Ctx) -> Connection:
        """The client connection behind a request, remembered for change notifications."""
        conn = sdk_private.connection(ctx)
        key = id(conn)
        if key not in self._connections and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self._connections[key] = conn
            conn.exit_stack.callback(self._connections.pop, key, None)
            lean_server.remember(conn)  # its later calls may take the lean leg
        return conn

    def _broadcast(self, what: str) -> None:
        for conn in list(self._connections.values()):
            if what == "tools":
                coro = conn.send_tool_list_changed()
            elif what == "prompts":
                coro = conn.send_prompt_list_changed()
            else:
                coro = conn.send_resource_list_changed()
            spawn(coro)

    def _resource_updated(self, uri: str) -> None:
        for conn in list(self._connections.values()):
            if uri in conn.state.get("subscriptions", ()):
                spawn(conn.send_resource_updated(uri))

    async def _set_level(self, ctx: Ctx, params: types.SetLevelRequestParams) -> types.EmptyResult:
        self._connection(ctx).state["log_level"] = params.level
        return types.EmptyResult()

    async def _subscribe(self, ctx: Ctx, params: types.SubscribeRequestParams) -> types.EmptyResult:
        self._connection(ctx).state.setdefault("subscriptions", set()).add(str(params.uri))
        return types.EmptyResult()

    async def _unsubscribe(
        self, ctx: Ctx, params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self._connection(ctx).state.setdefault("subscriptions", set()).discard(str(params.uri))
        return types.EmptyResult()

    # -- tools ----------------------------------------------------------------------------------

    async def _list_tools(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        """What this caller may call: a component the policy denies is not listed at all."""
        self._connection(ctx)
        caller, allows = _caller(ctx), self.runtime.pipeline.allows
        return types.ListToolsResult(
            tools=[translate.tool(c) for c in self.runtime.catalog if allows(caller, c)]
        )

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        """The schema the SDK checks a modern call's `Mcp-Param-*` headers against. Without
        it the SDK runs the whole `tools/list` handler for every `tools/call`."""
        component = self.runtime.catalog.find(name)
        return None if component is None else component.input_schema

    async def _call_tool(
        self, ctx: Ctx, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        peer = self._peer(ctx)
        meta: dict[str, Any] = dict(ctx.meta or {})
        wants_progress = meta.get("progress_token", meta.get("progressToken")) is not None
        inv = Invocation(
            params.name,
            dict(params.arguments or {}),
            caller=_caller(ctx),
            progress=_progress(ctx) if wants_progress else None,
            peer=peer,
        )
        try:
            result = await self.runtime.pipeline.invoke(inv)
        except asyncio.CancelledError:
            # notifications/cancelled: stop what the call started (script host calls too).
            inv.cancel.cancel("cancelled by the client")
            raise
        except LLMSpellError as exc:
            await peer.flush()
            if exc.code in translate.CALLER_ERRORS and not self._refused_inside(exc, inv):
                raise self._refusal(exc, inv) from None
            return types.CallToolResult(
                content=[types.TextContent(text=exc.message)], is_error=True
            )
        await peer.flush()
        return translate.call_result(result)

    def _peer(self, ctx: Ctx) -> McpPeer:
        conn = self._connection(ctx)
        return McpPeer(ctx, lambda: conn.state.get("log_level", DEFAULT_LOG_LEVEL))

    def _refused_inside(self, exc: LLMSpellError, inv: Invocation) -> bool:
        """A DENIED a built-in tool raised itself (its sandbox refused a path, a command, a
        host) is the tool's result, which the model reads and corrects. The gate's refusal of
        the caller, and an upstream's (the caller's own token missing), stay JSON-RPC errors."""
        if exc.code != ErrorCode.DENIED:
            return False
        component = self.runtime.catalog.find(inv.name)
        return (
            component is not None
            and component.source == "builtin"
            and self.runtime.pipeline.allows(inv.caller, component)
        )

    def _refusal(self, exc: LLMSpellError, inv: Invocation) -> MCPError:
        """A caller's error as JSON-RPC's. The catalog's own "unknown component" for the tool
        called is MCP's "unknown tool", suggesting only what this caller may call."""
        if exc.code != ErrorCode.UNKNOWN_COMPONENT or exc.data.get("name") != inv.name:
            return translate.mcp_error(exc)
        catalog, allows = self.runtime.catalog, self.runtime.pipeline.allows
        callable_ = [c.name for c in catalog.list() if allows(inv.caller, c)]
        return translate.unknown_tool(inv.name, catalog.suggest(inv.name, among=callable_))

    # -- prompts --------------------------------------------------------------------------------

    async def _list_prompts(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        self._connection(ctx)
        caller = _caller(ctx)
        return types.ListPromptsResult(
            prompts=[
                translate.prompt(p) for p in self.runtime.prompts.list() if self._visible(caller, p)
            ]
        )

    async def _get_prompt(
        self, ctx: Ctx, params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        inv = Invocation(
            params.name, dict(params.arguments or {}), caller=_caller(ctx), peer=self._peer(ctx)
        )
        try:
            prompt = self.runtime.prompts.get(params.name)
            messages = await self.runtime.render_prompt(inv)
        except LLMSpellError as exc:
            raise translate.mcp_error(exc) from None
        return types.GetPromptResult(
            description=prompt.description or None,
            messages=[translate.prompt_message(m) for m in messages],
        )

    # -- resources ------------------------------------------------------------------------------

    async def _list_resources(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        self._connection(ctx)
        caller = _caller(ctx)
        return types.ListResourcesResult(
            resources=[
                translate.resource(r)
                for r in self.runtime.resources.list()
                if self._visible(caller, r)
            ]
        )

    async def _list_templates(
        self, ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        caller = _caller(ctx)
        return types.ListResourceTemplatesResult(
            resource_templates=[
                translate.resource_template(r)
                for r in self.runtime.resources.templates()
                if self._visible(caller, r)
            ]
        )

    async def _read_resource(
        self, ctx: Ctx, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        try:
            parts = await self.runtime.read_resource(Invocation(uri, caller=_caller(ctx)))
        except LLMSpellError as exc:
            if exc.code == ErrorCode.UNKNOWN_COMPONENT:
                raise MCPError(RESOURCE_NOT_FOUND, exc.message, {"uri": uri}) from None
            raise translate.mcp_error(exc) from None
        return types.ReadResourceResult(contents=[translate.resource_contents(p) for p in parts])

    def _visible(self, caller: Identity, item: Prompt | Resource) -> bool:
        """A caller sees listed only the prompts and resources it may get or read, as with
        tools: the policy is asked of the component the gate checks (`Runtime.render_prompt`,
        `Runtime.read_resource`)."""
        pipeline = self.runtime.pipeline
        return pipeline.policy is None or pipeline.allows(caller, gated(item))

    # -- completions ----------------------------------------------------------------------------

    async def _complete(
        self, ctx: Ctx, params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        ref, arg = params.ref, params.argument
        given = dict(params.context.arguments or {}) if params.context else {}
        completer = None
        caller = _caller(ctx)
        if isinstance(ref, types.PromptReference):
            prompt = self.runtime.prompts.get(ref.name) if ref.name else None
            found = prompt.argument(arg.name) if prompt and self._visible(caller, prompt) else None
            completer = found.complete if found else None
        else:
            template = self.runtime.resources.template(ref.uri)
            visible = template is not None and self._visible(caller, template)
            completer = template.complete.get(arg.name) if template and visible else None
        values = await completer(arg.value, given) if completer else []
        return types.CompleteResult(
            completion=types.Completion(
                values=values[:MAX_COMPLETIONS],
                total=len(values),
                has_more=len(values) > MAX_COMPLETIONS,
            )
        )


def _progress(ctx: Ctx) -> Any:
    async def report(progress: float, total: float | None, message: str | None) -> None:
        await ctx.session.report_progress(progress, total, message)

    return report


def _caller(ctx: Ctx) -> Identity:
    """Who the gateway's auth says is calling (HTTP), else the client by name (stdio)."""
    return asgi.caller(getattr(ctx.request, "scope", None)) or Identity(subject=_subject(ctx))


def _subject(ctx: Ctx) -> str:
    params = ctx.session.client_params
    return f"mcp:{params.client_info.name}" if params is not None else "mcp"
