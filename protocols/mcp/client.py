"""One remote MCP server, kept connected: a long-lived session on the SDK's `Client`, supervised.

The weak spots of MCP proxies are what this module is for: one session per upstream (never one
per call); a stdio server that exits is restarted with backoff; an HTTP session that expires or
whose server restarts is re-initialized, and the call that hit it retried once when that is safe;
a dead upstream fails its own calls with a clear error and touches nothing else.

Retrying is safe when the request provably never reached a tool (connection refused, or a 404 on
the session id: the server refused it at the session layer), or when the tool says it is
idempotent or read-only. A call whose connection dropped mid-way is retried only in that case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import anyio
import httpx2
import mcp_types as types
from llmspell.runtime import ErrorCode, Invocation, LLMSpellError, Result
from llmspell.runtime.guard import Guard, GuardSettings, checked_rate, parse_rate
from llmspell.runtime.invocation import current
from llmspell.runtime.peer import Feature, Peer
from mcp.client.client import Client
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from . import translate
from .credentials import TokenExchange

logger = logging.getLogger("llmspell.upstream")

State = Literal["connecting", "ready", "down", "closed"]
Lost = Literal["refused", "expired", "dropped"]
"""How a session was lost: refused and expired requests never reached a tool; dropped may have."""

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 5.0
"""Seconds a session must have lived for its loss to be reconnected without backoff."""
CLIENT_INFO = types.Implementation(name="llmspell", version="0.1")
_ENV = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def guard_settings(spec: ServerSpec) -> GuardSettings:
    return GuardSettings(
        rate=parse_rate(spec.rate) if spec.rate else None,
        max_concurrency=spec.max_concurrency,
        breaker_failures=spec.breaker_failures,
        breaker_reset=spec.breaker_reset,
    )


class ServerSpec(BaseModel):
    """One entry of an `mcpServers` map, as Claude Desktop, Cursor and VS Code write it, plus
    llmspell's own keys (include, exclude, timeout). Unknown keys are other tools' and ignored."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(default="", pattern=r"^[A-Za-z0-9_-]*$")
    type: Literal["stdio", "http", "streamable-http", "streamableHttp", "sse"] | None = None
    command: str | None = None
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    include: list[str] = []
    """Globs on the upstream's tool names; empty means all."""
    exclude: list[str] = []
    timeout: float = Field(default=60.0, gt=0, description="seconds per call")
    connect_timeout: float = Field(default=10.0, gt=0)
    ping_interval: float = Field(default=15.0, ge=0, description="0: no health pings")
    disabled: bool = False
    rate: Annotated[str | None, AfterValidator(checked_rate)] = None
    """Calls per period sent to this server, e.g. "50/second"; more wait their turn."""
    max_concurrency: int = Field(default=0, ge=0, description="calls in flight; 0: no cap")
    breaker_failures: int = Field(default=5, ge=0, description="failures in a row; 0: off")
    breaker_reset: float = Field(default=30.0, gt=0, description="seconds open before a probe")
    auth: Literal["service", "passthrough", "exchange"] = "service"
    """service: every call goes with this entry's own `headers`. passthrough: each caller's
    calls go over a session of its own that carries the caller's bearer token. exchange: the
    same, with a token traded for the caller's (RFC 8693) at `token_exchange.url`."""
    token_exchange: TokenExchange | None = None

    @model_validator(mode="after")
    def _exchange(self) -> ServerSpec:
        if self.auth == "exchange" and self.token_exchange is None:
            raise ValueError('auth = "exchange" needs token_exchange = { url, client_id, ... }')
        return self

    @model_validator(mode="after")
    def _one_transport(self) -> ServerSpec:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (stdio) or url (Streamable HTTP or SSE)")
        if self.type == "stdio" and self.command is None:
            raise ValueError("type stdio needs a command")
        return self

    @property
    def transport(self) -> Literal["stdio", "http", "sse"]:
        if self.command is not None:
            return "stdio"
        return "sse" if self.type == "sse" else "http"

    def public(self) -> dict[str, Any]:
        """What may be shown or logged: never env, headers, URL credentials or query."""
        if self.command is not None:
            target = " ".join([os.path.basename(self.command), *self.args])
        else:
            assert self.url is not None
            parts = urlsplit(self.url)
            target = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
            target += parts.path
        return {"name": self.name, "transport": self.transport, "target": target}


def expand_env(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """`${NAME}`, `${env:NAME}` (VS Code's spelling) and `${NAME:-default}` in every string."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise KeyError(name)

        return _ENV.sub(sub, value)
    if isinstance(value, list):
        return [expand_env(v, env) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    return value


class SpecError(ValueError):
    """An `mcpServers` entry that cannot be used; the message names the key, never a value."""


def parse_spec(entry: Mapping[str, Any], **fixed: Any) -> ServerSpec:
    """One `mcpServers` entry as written, `${ENV}` expanded, as a ServerSpec; `fixed` keys (the
    name) override the entry's. The one parser for config files and `MCP.connect`."""
    try:
        expanded = expand_env(dict(entry))
    except KeyError as exc:
        raise SpecError(f"environment variable {exc} is not set") from None
    try:
        return ServerSpec.model_validate({**expanded, **fixed})
    except ValidationError as exc:
        raise SpecError(validation_problems(exc, "(spec)")) from None


def validation_problems(exc: ValidationError, top: str = "(top)") -> str:
    """A pydantic error as `key.path: message; ...`, for config files and specs alike."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or top}: {e['msg']}" for e in exc.errors()
    )


class Listing(BaseModel):
    """What an upstream offers, as its wire types."""

    tools: list[types.Tool] = []
    prompts: list[types.Prompt] = []
    resources: list[types.Resource] = []
    templates: list[types.ResourceTemplate] = []


class Upstream:
    """A supervised session with one server. `on_listing` hears every new listing (connect,
    list_changed), `on_resource_updated` every `notifications/resources/updated`."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        on_listing: Callable[[Upstream], None] = lambda u: None,
        on_resource_updated: Callable[[str], None] = lambda uri: None,
        fallback: Peer | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.guard = Guard(spec.name, guard_settings(spec))
        self.state: State = "connecting"
        self.error: str | None = None
        self.listing = Listing()
        self.sessions = 0
        """Sessions opened so far: 1 unless the upstream was lost and reconnected."""
        self._on_listing = on_listing
        self._on_resource_updated = on_resource_updated
        self.fallback = fallback
        """Answers server requests when no downstream caller can (a script's handlers)."""
        self._client: Client | None = None
        self._generation = 0
        self._lost: asyncio.Event = asyncio.Event()
        self._lost_how: Lost | None = None
        self._ready = asyncio.Event()
        self._attempted = asyncio.Event()
        self._attempt = asyncio.Event()
        """Set, and replaced, when each connection attempt ends: what waiting calls wake on."""
        self._kick = asyncio.Event()
        self._calls: list[Invocation] = []
        self._task: asyncio.Task[None] | None = None
        self._refresh: asyncio.Task[None] | None = None

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self, wait: float | None = None) -> None:
        """Start supervising; wait up to `wait` seconds for the first attempt to finish."""
        self._task = asyncio.create_task(self._supervise(), name=f"upstream {self.name}")
        if wait:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._attempted.wait()

    async def aclose(self) -> None:
        self.state = "closed"
        for task in (self._refresh, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _supervise(self) -> None:
        failures = 0
        while True:
            was_ready = False
            started = time.monotonic()
            try:
                async with contextlib.AsyncExitStack() as stack:
                    async with asyncio.timeout(self.spec.connect_timeout):
                        client = await stack.enter_async_context(self._open())
                        listing = await self._fetch(client)
                    was_ready = True
                    self._connected(client, listing)
                    await self._watch(client)
            except asyncio.CancelledError:
                if self.state == "closed":
                    raise
                self.error = "cancelled"
            except BaseException as exc:  # ExceptionGroups from the SDK's task groups too
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                self.error = _describe(exc)
            finally:
                self._client = None
                self._ready.clear()
            if self.state == "closed":
                return
            self.state = "down"
            self._attempted.set()
            self._attempt.set()
            if not was_ready and self.error is None:
                self.error = "connection lost"
            logger.warning("upstream %s is down: %s", self.name, self.error)
            # A session that lived a while is reconnected at once; one that keeps dying (or
            # never comes up) backs off, so a crash-looping server is not restarted hot.
            lived = time.monotonic() - started
            failures = 0 if was_ready and lived >= STABLE_AFTER else failures + 1
            delay = 0.0 if failures == 0 else min(BACKOFF_START * 2 ** (failures - 1), BACKOFF_MAX)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._kick.wait()  # a call that needs the upstream cuts the wait short
            self._kick.clear()
            self.state = "connecting"

    def _connected(self, client: Client, listing: Listing) -> None:
        self._client = client
        self._generation += 1
        self.sessions += 1
        self.listing = listing
        self.state = "ready"
        self.guard.breaker.succeeded()  # reconnected: whatever opened the breaker is over
        self.error = None
        self._ready.set()
        self._attempted.set()
        self._attempt.set()
        logger.info("upstream %s ready: %d tools", self.name, len(listing.tools))
        self._on_listing(self)

    async def _watch(self, client: Client) -> None:
        """Until the session is lost: EOF on the transport, a failed ping, or a call that saw
        the session refused."""
        interval = self.spec.ping_interval or None
        while not self._lost.is_set():
            try:
                async with asyncio.timeout(interval):
                    await self._lost.wait()
            except TimeoutError:
                try:
                    async with asyncio.timeout(min(self.spec.connect_timeout, 10.0)):
                        await client.send_ping()
                except (MCPError, TimeoutError, httpx2.HTTPError, anyio.ClosedResourceError) as exc:
                    self._lose("dropped", f"ping failed: {_describe(exc)}")
        self.error = self.error or "connection lost"

    def _lose(self, how: Lost, why: str) -> None:
        if not self._lost.is_set():
            self._lost_how = how
            self.error = why
            self._lost.set()

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        self._lost = asyncio.Event()
        self._lost_how = None
        transport = _watched(self._transport(), lambda: self._lose("dropped", "connection closed"))
        client = Client(
            transport,
            mode="legacy",
            cache=None,
            client_info=CLIENT_INFO,
            read_timeout_seconds=self.spec.timeout,
            sampling_callback=self._sample,
            elicitation_callback=self._elicit,
            message_handler=self._message,
        )
        async with client:
            yield client

    def _transport(self) -> Any:
        spec = self.spec
        if spec.command is not None:
            params = StdioServerParameters(
                command=spec.command, args=spec.args, env=spec.env or None, cwd=spec.cwd
            )
            return stdio_client(params)
        assert spec.url is not None
        if spec.transport == "sse":
            return sse_client(spec.url, headers=spec.headers or None)
        http = httpx2.AsyncClient(
            headers=spec.headers or None,
            timeout=httpx2.Timeout(30.0, read=300.0),  # the SDK's defaults: SSE streams idle
            transport=_Watch(httpx2.AsyncHTTPTransport(), self._lose),
        )
        return _owning(http, streamable_http_client(spec.url, http_client=http))

    async def _fetch(self, client: Client) -> Listing:
        caps = client.server_capabilities
        listing = Listing()
        if caps.tools is not None:
            listing.tools = await _pages(client.list_tools)
        if caps.prompts is not None:
            listing.prompts = await _pages(client.list_prompts)
        if caps.resources is not None:
            listing.resources = await _pages(client.list_resources)
            listing.templates = await _pages(client.list_resource_templates)
        return listing

    async def _message(self, message: IncomingMessage) -> None:
        if isinstance(
            message,
            types.ToolListChangedNotification
            | types.PromptListChangedNotification
            | types.ResourceListChangedNotification,
        ):
            if self._refresh is None or self._refresh.done():
                self._refresh = asyncio.create_task(self._relist())
        elif isinstance(message, types.ResourceUpdatedNotification):
            self._on_resource_updated(str(message.params.uri))
        elif isinstance(message, Exception):
            logger.debug("upstream %s transport error: %s", self.name, message)

    async def _relist(self) -> None:
        client = self._client
        if client is None:
            return
        try:
            self.listing = await self._fetch(client)
        except (MCPError, httpx2.HTTPError) as exc:
            logger.warning("upstream %s: re-listing failed: %s", self.name, exc)
            return
        self._on_listing(self)

    # -- calls ----------------------------------------------------------------------------------

    async def session(self, inv: Invocation | None = None) -> tuple[Client, int]:
        """The live session, reconnecting first (at once, not after backoff) when it is down."""
        if self._client is not None and self.state == "ready" and not self._lost.is_set():
            return self._client, self._generation
        if self.state == "closed":
            raise self._unavailable()
        wait = self.spec.connect_timeout
        remaining = inv.remaining() if inv is not None else None
        if remaining is not None:
            wait = max(0.0, min(wait, remaining))
        try:
            async with asyncio.timeout(wait):
                # The attempt under way may be the one that is failing; wait for a fresh one.
                for _ in range(2):
                    attempt = self._attempt = asyncio.Event()
                    self._kick.set()
                    await attempt.wait()
                    if self._client is not None and self.state == "ready":
                        return self._client, self._generation
        except TimeoutError:
            pass
        raise self._unavailable()

    async def call_tool(self, tool: str, inv: Invocation, *, safe: bool = False) -> Result:
        """Call `tool`; `safe` (idempotent or read-only) allows a retry after a dropped call.
        The server's guard (breaker, rate, concurrency cap) admits it first."""
        if self.state != "ready" and self.guard.breaker.state != "closed":
            self._kick.set()  # the breaker refuses for now; the supervisor need not wait too
        async with self.guard.admit(inv):
            return await self._call_tool(tool, inv, safe)

    async def _call_tool(self, tool: str, inv: Invocation, safe: bool) -> Result:
        retried = False
        while True:
            client, generation = await self.session(inv)
            self._calls.append(inv)
            try:
                result = await client.call_tool(
                    tool,
                    inv.arguments,
                    read_timeout_seconds=self._timeout(inv),
                    progress_callback=_progress(inv) if inv.progress is not None else None,
                )
                return translate.tool_result(result)
            except MCPError as exc:
                lost = self._lost_by(generation, exc)
                if lost is None:
                    raise self._failed(tool, exc) from None
                if not retried and (lost != "dropped" or safe):
                    retried = True
                    logger.info("upstream %s: retrying %s after %s session", self.name, tool, lost)
                    continue
                raise LLMSpellError(
                    ErrorCode.UNAVAILABLE,
                    f"upstream {self.name!r} lost the connection during {tool!r} ({self.error}); "
                    + (
                        "it was retried once and failed again"
                        if retried
                        else "not retried, because the tool is not marked idempotent or read-only"
                    ),
                    data={"server": self.name, "state": self.state},
                ) from None
            finally:
                self._calls.remove(inv)

    async def request(self, what: str, inv: Invocation | None, send: Any) -> Any:
        """Any other request (prompts/get, resources/read): one retry after a lost session."""
        for attempt in (0, 1):
            client, generation = await self.session(inv)
            try:
                return await send(client)
            except MCPError as exc:
                lost = self._lost_by(generation, exc)
                if lost is None or attempt:
                    raise self._failed(what, exc) from None
        raise AssertionError("unreachable")

    def _timeout(self, inv: Invocation) -> float:
        remaining = inv.remaining()
        return (
            self.spec.timeout
            if remaining is None
            else max(0.001, min(self.spec.timeout, remaining))
        )

    def _lost_by(self, generation: int, exc: MCPError) -> Lost | None:
        """Whether `exc` means the session `generation` is gone (and how); marks it lost."""
        if generation != self._generation:
            return self._lost_how or "dropped"  # already replaced while this call ran
        if self._lost.is_set():
            return self._lost_how
        if exc.error.code == types.CONNECTION_CLOSED:
            self._lose("dropped", exc.error.message)
            return "dropped"
        return None

    def _failed(self, what: str, exc: MCPError) -> LLMSpellError:
        code = exc.error.code
        if code == types.REQUEST_TIMEOUT:
            return LLMSpellError(
                ErrorCode.TIMEOUT,
                f"upstream {self.name!r} did not answer {what!r} in time",
                data={"server": self.name},
            )
        kind = (
            ErrorCode.INVALID_ARGUMENTS
            if code == types.INVALID_PARAMS
            else ErrorCode.COMPONENT_FAILED
        )
        return LLMSpellError(
            kind,
            f"upstream {self.name!r} refused {what!r}: {exc.error.message}",
            data={"server": self.name, "code": code},
        )

    def _unavailable(self) -> LLMSpellError:
        return LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"upstream {self.name!r} is unavailable: {self.error or 'not connected'}",
            data={"server": self.name, "state": self.state},
        )

    # -- requests from the upstream, answered by the caller downstream --------------------------

    def _caller(self, feature: Feature) -> Peer | None:
        """The downstream peer a server request belongs to: the call in whose context it came
        (Streamable HTTP carries it), else the latest in-flight call whose client can answer."""
        inv = current.get()
        candidates = ([inv] if inv in self._calls else []) + self._calls[::-1]
        for c in candidates:
            if c is not None and c.peer is not None and c.peer.supports(feature):
                return c.peer
        if self.fallback is not None and self.fallback.supports(feature):
            return self.fallback
        return None

    async def _sample(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        peer = self._caller("sampling")
        if peer is None:
            return _no_peer("sampling")
        reply = await peer.sample(translate.sampling_request(params))
        return translate.create_message_result(reply)

    async def _elicit(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        peer = self._caller("elicitation")
        if peer is None or not isinstance(params, types.ElicitRequestFormParams):
            return _no_peer("elicitation")
        reply = await peer.elicit(params.message, dict(params.requested_schema))
        return types.ElicitResult(action=reply.action, content=reply.content)

    def status(self) -> dict[str, Any]:
        return {
            **self.spec.public(),
            "state": self.state,
            "error": self.error,
            "tools": len(self.listing.tools),
            "sessions": self.sessions,
            "breaker": self.guard.breaker.state,
        }


class _Watch(httpx2.AsyncBaseTransport):
    """Wraps the HTTP client's transport to see what the MCP transport hides: a refused
    connection and a 404 on a session id both mean the request never reached a tool."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, lose: Callable[[Lost, str], None]):
        self._inner = inner
        self._lose = lose

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except httpx2.ConnectError as exc:
            self._lose("refused", f"connection refused: {exc}")
            raise
        if "mcp-session-id" not in request.headers or response.status_code not in (400, 404):
            return response
        if response.status_code == 404:
            self._lose("expired", "session expired (404 on its session id)")
            return response
        # Some servers (the TypeScript SDK's examples, server-everything) answer an unknown
        # session with 400 "No valid session ID"; a 400 is a refusal before any tool ran.
        body = await response.aread()
        if b"session" in body.lower():
            self._lose("expired", "session not known to the server (400 on its session id)")
        return httpx2.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


@contextlib.asynccontextmanager
async def _owning(http: httpx2.AsyncClient, transport: Any) -> AsyncIterator[Any]:
    async with http, transport as streams:
        yield streams


@contextlib.asynccontextmanager
async def _watched(transport: Any, on_eof: Callable[[], None]) -> AsyncIterator[Any]:
    """Relay the transport's read stream so its end (a stdio server exiting, an SSE stream
    closing) is seen at once, not at the next call."""
    async with transport as (read, write):
        send, receive = anyio.create_memory_object_stream[Any](64)

        async def pump() -> None:
            try:
                async with read, send:
                    async for item in read:
                        await send.send(item)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass
            finally:
                on_eof()

        async with anyio.create_task_group() as tg:
            tg.start_soon(pump)
            try:
                yield receive, write
            finally:
                tg.cancel_scope.cancel()


async def _pages(fetch: Any) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        page = await fetch(cursor=cursor)
        for field in ("tools", "prompts", "resources", "resource_templates"):
            if hasattr(page, field):
                items.extend(getattr(page, field))
                break
        cursor = page.next_cursor
        if not cursor:
            break
    return items


def _progress(inv: Invocation) -> Any:
    async def forward(progress: float, total: float | None, message: str | None) -> None:
        await inv.report_progress(progress, total, message)

    return forward


def _no_peer(feature: str) -> types.ErrorData:
    return types.ErrorData(
        code=types.INVALID_REQUEST,
        message=f"no downstream client can answer {feature} for this call",
    )


def _describe(exc: BaseException) -> str:
    """The innermost meaningful message of an SDK error (often wrapped in ExceptionGroups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return "timed out connecting"
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
