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
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import anyio
import httpx2
import mcp_types as types
from llmspell.runtime import ErrorCode, Invocation, LLMSpellError, Result
from llmspell.runtime.guard import Guard
from llmspell.runtime.invocation import current
from llmspell.runtime.peer import Feature, Peer
from mcp.client.client import Client
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.shared.exceptions import MCPError

from . import lean, translate, transport
from .listing import Listing, fetch_listing
from .oauth_upstream import OAuthUpstream, login_hint
from .spec import ServerSpec, guard_settings
from .transport import Lost

logger = logging.getLogger("llmspell.upstream")

State = Literal["connecting", "ready", "down", "needs login", "closed"]

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 5.0
"""Seconds a session must have lived for its loss to be reconnected without backoff."""
KICK_GAP = 0.2
"""Seconds between attempts, however many calls are waiting for the upstream."""
CLIENT_INFO = types.Implementation(name="llmspell", version="0.1")


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
        oauth: OAuthUpstream | None = None,
    ) -> None:
        self.spec = spec
        self.oauth = oauth  # auth = "oauth": without usable tokens it waits in `needs login`
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
        self._lean: lean.LeanLeg | None = None
        """One-POST `tools/call` over a Streamable HTTP session's own client (lean.py)."""
        self.calls = lean.Stats()

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
        reported: str | None = None
        while True:
            if self.oauth and (self._lost_how == "login" or not await self.oauth.can_start()):
                await self._await_login()
            was_ready = False
            started = time.monotonic()
            try:
                async with contextlib.AsyncExitStack() as stack:
                    # The handshake is bounded by the connect timeout, the listing (requests
                    # like any other) by the call timeout: a server that is up but busy is
                    # not abandoned halfway through listing and reconnected from scratch.
                    async with asyncio.timeout(self.spec.connect_timeout):
                        client = await stack.enter_async_context(self._open())
                    async with asyncio.timeout(self.spec.timeout):
                        listing = await fetch_listing(client)
                    was_ready = True
                    self._connected(client, listing)
                    await self._watch(client)
            except asyncio.CancelledError:
                # The supervisor itself cancelled (closing, or asyncio.run winding down after
                # Ctrl-C) ends here; a cancellation that leaked out of the SDK's task groups
                # is a lost session like any other.
                task = asyncio.current_task()
                if self.state == "closed" or (task is not None and task.cancelling()):
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
            if self._lost_how == "login":
                continue  # to wait for a login
            self.state = "down"
            self._attempted.set()
            self._attempt.set()
            if not was_ready and self.error is None:
                self.error = "connection lost"
            # Said once per outage (and when the reason changes), not once per attempt.
            level = logging.WARNING if was_ready or self.error != reported else logging.DEBUG
            logger.log(level, "upstream %s is down: %s", self.name, self.error)
            reported = self.error
            # A session that lived a while is reconnected at once; one that keeps dying (or
            # never comes up) backs off, so a crash-looping server is not restarted hot.
            lived = time.monotonic() - started
            failures = 0 if was_ready and lived >= STABLE_AFTER else failures + 1
            if failures:
                delay = min(BACKOFF_START * 2 ** min(failures - 1, 16), BACKOFF_MAX)
                # Calls that need the upstream cut the wait short, but no sooner than KICK_GAP
                # after the last attempt: busy callers do not turn an outage into a hot loop.
                await asyncio.sleep(KICK_GAP)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay - KICK_GAP):
                        await self._kick.wait()
            self._kick.clear()
            self.state = "connecting"

    async def _await_login(self) -> None:
        """`needs login` until the vault changes (`llmspell mcp login`): no reconnect loop."""
        assert self.oauth is not None
        self.state, self.error = "needs login", login_hint(self.name)
        self._attempted.set()
        self._attempt.set()
        logger.warning("%s", self.error)
        await self.oauth.wait_for_login()
        self.state, self.error = "connecting", None

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
                        # The session's ping: the client's own warns that 2026-07-28 removed it,
                        # which is no matter on the handshake-era session opened here.
                        await client.session.send_ping()
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
        auth = self.oauth.auth(lambda why: self._lose("login", why)) if self.oauth else None
        client = Client(
            transport.connect(self.spec, self._lose, auth, on_http=self._lean_on),
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

    def _lean_on(self, http: httpx2.AsyncClient, transport: httpx2.AsyncBaseTransport) -> None:
        assert self.spec.url is not None
        self._lean = lean.LeanLeg(self.spec.url, http, transport)

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
            self.listing = await fetch_listing(client)
        except (MCPError, httpx2.HTTPError) as exc:
            logger.warning("upstream %s: re-listing failed: %s", self.name, exc)
            return
        self._on_listing(self)

    # -- calls ----------------------------------------------------------------------------------

    async def session(self, inv: Invocation | None = None) -> tuple[Client, int]:
        """The live session, reconnecting first (at once, not after backoff) when it is down."""
        if self._client is not None and self.state == "ready" and not self._lost.is_set():
            return self._client, self._generation
        if self.state in ("closed", "needs login"):
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
                    if self.state == "needs login":
                        break
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
                return translate.tool_result(await self._send(client, tool, inv))
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

    async def _send(self, client: Client, tool: str, inv: Invocation) -> types.CallToolResult:
        """One `tools/call`: the lean leg when the call needs nothing back from the server,
        else (or when the server turned the lean POST away unrun) the SDK session."""
        leg, version = self._lean, client.protocol_version
        why = "transport" if leg is None else lean.unsuitable(inv, self.fallback, version)
        if leg is not None and why is None:
            try:
                return await leg.call_tool(
                    tool,
                    inv.arguments,
                    version=version,
                    within=self._timeout(inv),
                    stats=self.calls,
                    validate=client.session.validate_tool_result,
                    on_notification=self._message,
                )
            except lean.NotSent as exc:
                why = f"refused ({exc})"
        self.calls.fell_back(why or "transport")
        return await client.call_tool(
            tool,
            inv.arguments,
            read_timeout_seconds=self._timeout(inv),
            progress_callback=_progress(inv) if inv.progress is not None else None,
        )

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
        if self._lost_how == "login" or self.state == "needs login":
            raise self._unavailable()  # the tokens ran out: no retry, the login hint
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
        login = self.state == "needs login" or self._lost_how == "login"
        return LLMSpellError(
            ErrorCode.UNAVAILABLE,
            login_hint(self.name)
            if login
            else f"upstream {self.name!r} is unavailable: {self.error or 'not connected'}",
            data={"server": self.name, "state": "needs login" if login else self.state},
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
            "auth": self.spec.auth,
            "error": self.error,
            "tools": len(self.listing.tools),
            "sessions": self.sessions,
            "calls": self.calls.public(),
            "breaker": self.guard.breaker.state,
        }


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
