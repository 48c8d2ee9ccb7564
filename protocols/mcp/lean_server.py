"""The lean downstream leg: a `tools/call` answered without the SDK's Streamable HTTP machinery
(its per-request transport or session routing, dispatcher, memory streams and task groups), by
the SDK's own request kernel.

What runs is what the SDK runs for the request: `ServerRunner.on_request`, on a born-ready
`Connection` as the manager's stateless path builds one, or on the session's own `Connection`.
So the surface validation of the params, the init gate, the middleware chain,
`McpServer._call_tool` (translation, refusals, error mapping, the caller from the request's auth
scope) and the result's serialization and validation are the SDK path's: one path for one job.
Only the plumbing between the HTTP request and that kernel is left out. Exceptions map to
JSON-RPC errors with the SDK's `handler_exception_to_error_data`, and replies are the SDK's
`JSONRPCResponse`/`JSONRPCError`, written as its transport writes them.

Which requests come this way (`LeanServer.suitable`): one JSON-RPC request `tools/call` without
a progress token, a handshake-era (or absent) protocol version (the 2026-07-28 entry keeps its
`Mcp-Param-*` checks), an Accept the SDK takes, a Host and Origin its DNS-rebinding check
accepts, and no server middleware (tracing on keeps the SDK's span); and then

- stateless (JSON responses): any such call. There is no back-channel, as in the SDK's
  JSON-response mode: a server-to-client request raises `NoBackChannelError` and
  request-scoped notifications are dropped;
- with sessions: a call on a live session (its owner, not idle-expired) whose connection the
  server has seen (`remember`), from a client that declared neither sampling nor elicitation,
  so no server-to-client request can be made for it (the tool sees the same "not supported"
  either way). The reply is the SDK's event stream: the priming event, each request-scoped
  notification (logs) as it is sent, then the response, each stored in the session's event
  store first under the request's stream, so `Last-Event-ID` resumes it through the SDK's GET
  (and handed to that GET's live tail, as the SDK's router hands it);
  keep-alive comments as sse-starlette sends them. A `notifications/cancelled` for the call
  cancels it, answered `Request cancelled` as the SDK's transport answers it.

Everything else goes to the SDK as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from mcp.server.connection import Connection
from mcp.server.lowlevel import Server
from mcp.server.runner import ServerRunner, aclose_shielded
from mcp.server.streamable_http import (
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_SSE,
    MCP_SESSION_ID_HEADER,
    REQUEST_CANCELLED,
    EventMessage,
    check_accept_headers,
)
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, is_version_at_least
from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope, Send

from .. import asgi
from . import sdk_private

logger = logging.getLogger("llmspell.mcp.server")

ENABLED = os.environ.get("LLMSPELL_SERVER_LEAN", "1") not in ("0", "off", "false")
"""`LLMSPELL_SERVER_LEAN=0` sends every request through the SDK (to measure what the leg saves)."""

LEAN_METHODS = frozenset({"tools/call"})
RESUMABLE_FROM = "2025-11-25"
"""Clients older than this cannot parse the priming event (the SDK's rule)."""
PING_SECONDS = EventSourceResponse.DEFAULT_PING_INTERVAL
SEP = EventSourceResponse.DEFAULT_SEPARATOR


class Stats:
    """Requests answered here (`lean`) and by the SDK (`sdk`), by method class: a served
    JSON-RPC method for a single request, else `notification`, `response`, `batch`, `get`..."""

    def __init__(self) -> None:
        self.lean: Counter[str] = Counter()
        self.sdk: Counter[str] = Counter()

    def public(self) -> dict[str, Any]:
        return {
            "lean": sum(self.lean.values()),
            "sdk": sum(self.sdk.values()),
            "lean_by": dict(self.lean),
            "sdk_by": dict(self.sdk),
        }


_STATS: weakref.WeakKeyDictionary[StreamableHTTPSessionManager, Stats] = weakref.WeakKeyDictionary()
_CONNECTIONS: dict[str, Connection] = {}


def stats(manager: StreamableHTTPSessionManager) -> Stats:
    """The counters of the `/mcp` app serving `manager` (zeros before its first request)."""
    found = _STATS.get(manager)
    if found is None:
        found = _STATS[manager] = Stats()
    return found


def remember(connection: Connection) -> None:
    """Make a Streamable HTTP session's connection known to the leg, until it closes. The
    server calls this from its handlers (a session's first listing or call goes the SDK's way)."""
    session_id = connection.session_id
    if session_id is not None and session_id not in _CONNECTIONS:
        _CONNECTIONS[session_id] = connection
        connection.exit_stack.callback(_CONNECTIONS.pop, session_id, None)


Emit = Callable[[JSONRPCMessage], Awaitable[None]]


@dataclass(slots=True)
class _Call:
    """One inbound request as the SDK's kernel expects its dispatch context: a request-scoped
    channel that carries notifications when `emit` is given and no server-to-client request."""

    request_id: RequestId
    message_metadata: ServerMessageMetadata
    emit: Emit | None = None
    transport: TransportContext = field(
        default_factory=lambda: TransportContext(kind="streamable-http", can_send_request=False)
    )
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)
    closed: bool = False

    @property
    def can_send_request(self) -> bool:
        return False

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: Any = None) -> None:
        if self.emit is None or self.closed:
            logger.debug("dropped %s: no stream for it", method)
            return
        if params is not None:
            note = JSONRPCNotification(jsonrpc="2.0", method=method, params=dict(params))
        else:
            note = JSONRPCNotification(jsonrpc="2.0", method=method)
        await self.emit(note)

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: Any = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        return None  # only calls without a progress token come here


class LeanServer:
    """Answers the suitable requests of one session manager's `/mcp` app (see the module)."""

    def __init__(
        self, manager: StreamableHTTPSessionManager, security: TransportSecurityMiddleware
    ) -> None:
        self.manager = manager
        self.server: Server[Any] = manager.app
        self.security = security
        self.stats = stats(manager)
        self.enabled = ENABLED and manager.stateless == manager.json_response
        self._calls: dict[tuple[str, str], asyncio.Task[Any]] = {}
        """Session calls in flight here, by (session id, request id), for cancellation."""

    def count_sdk(self, scope: Scope, decoded: Any) -> None:
        self.stats.sdk[_kind(self.server, scope, decoded)] += 1

    def suitable(self, scope: Scope, decoded: Any) -> JSONRPCRequest | None:
        """The request to answer here, or None to leave it to the SDK."""
        if not self.enabled or self.server.middleware or not sdk_private.running(self.manager):
            return None
        if not isinstance(decoded, dict):
            return None
        method = decoded.get("method")
        if not isinstance(method, str) or method not in LEAN_METHODS:
            return None
        params = decoded.get("params")
        if params is not None and not isinstance(params, dict):
            return None
        meta = params.get("_meta") if params else None
        if isinstance(meta, dict) and "progressToken" in meta:
            return None
        version = asgi.header(scope, b"mcp-protocol-version")
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            return None  # the 2026-07-28 entry (Mcp-Param-* checks, its own envelope)
        try:
            return JSONRPCRequest.model_validate(decoded, by_name=False)
        except ValidationError:
            return None

    async def answer(self, scope: Scope, decoded: Any, send: Send) -> bool:
        """Answer the request (its body as parsed, or anything not a dict when it is no JSON)
        here and return True, or return False (nothing sent) for the SDK."""
        message = self.suitable(scope, decoded)
        if message is None:
            self._cancelled(scope, decoded)
            self.count_sdk(scope, decoded)
            return False
        request = Request(scope)
        if self.manager.stateless:
            handled = await self._answer_json(request, message, send)
        else:
            handled = await self._answer_stream(request, message, send)
        (self.stats.lean if handled else self.stats.sdk)[message.method] += 1
        return handled

    # -- stateless: one JSON body ----------------------------------------------------------------

    async def _answer_json(self, request: Request, message: JSONRPCRequest, send: Send) -> bool:
        has_json, _ = check_accept_headers(request)
        if not has_json or await self.security.validate_request(request, is_post=True):
            return False  # the SDK refuses it, in its words
        version = request.headers.get("mcp-protocol-version", DEFAULT_NEGOTIATED_VERSION)
        connection = Connection.from_envelope(version, None, None)
        try:
            reply = await self._run(connection, request, message, None)
        finally:
            await aclose_shielded(connection)
        response = Response(
            reply.model_dump_json(by_alias=True, exclude_unset=True),
            headers={"Content-Type": CONTENT_TYPE_JSON},
        )
        await response(request.scope, request.receive, send)
        return True

    # -- with sessions: the request's event stream -----------------------------------------------

    async def _answer_stream(self, request: Request, message: JSONRPCRequest, send: Send) -> bool:
        session_id = request.headers.get(MCP_SESSION_ID_HEADER)
        connection = _CONNECTIONS.get(session_id) if session_id else None
        if session_id is None or connection is None or _may_ask_client(connection):
            return False
        transport = sdk_private.live_transport(self.manager, session_id, request.scope.get("user"))
        has_json, has_sse = check_accept_headers(request)
        if transport is None or not (has_json and has_sse):
            return False
        if await self.security.validate_request(request, is_post=True):
            return False
        key = (session_id, str(message.id))
        if key in self._calls:
            return False  # a duplicate id in flight: the SDK's way, whatever it makes of it
        try:
            primed = await self._priming(request, key[1])
        except Exception:  # the store is down: the SDK tries, and answers as it answers that
            logger.warning("could not store the priming event", exc_info=True)
            return False
        with sdk_private.in_flight(transport):
            await self._stream(request, message, connection, transport, send, key, primed)
        return True

    async def _priming(self, request: Request, stream_id: str) -> bytes | None:
        """The stream's first event, stored before anything is dispatched (the SDK's order)."""
        store = self.manager.event_store
        version = request.headers.get("mcp-protocol-version", DEFAULT_NEGOTIATED_VERSION)
        if store is None or not is_version_at_least(version, RESUMABLE_FROM):
            return None
        primed: dict[str, Any] = {"id": await store.store_event(stream_id, None), "data": ""}
        if self.manager.retry_interval is not None:
            primed["retry"] = self.manager.retry_interval
        return ServerSentEvent(**primed, sep=SEP).encode()

    async def _stream(
        self,
        request: Request,
        message: JSONRPCRequest,
        connection: Connection,
        transport: Any,
        send: Send,
        key: tuple[str, str],
        primed: bytes | None,
    ) -> None:
        store, stream_id = self.manager.event_store, str(message.id)
        head = _sse_head(key[0])
        await send({"type": "http.response.start", "status": 200, "headers": head})
        if primed is not None:
            await _chunk(send, primed)

        async def emit(out: JSONRPCMessage, *, last: bool = False) -> None:
            event_id = await store.store_event(stream_id, out) if store is not None else None
            resumed = sdk_private.resumed_stream(transport, stream_id)
            if resumed is not None:  # the client came back with Last-Event-ID: live from here
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await resumed.send(EventMessage(out, event_id))
            data = out.model_dump_json(by_alias=True, exclude_unset=True)
            event = ServerSentEvent(data=data, event="message", id=event_id, sep=SEP)
            await _chunk(send, event.encode(), more=not last)

        call = asyncio.ensure_future(self._run(connection, request, message, emit))
        self._calls[key] = call
        try:
            while True:
                done, _ = await asyncio.wait({call}, timeout=PING_SECONDS)
                if done:
                    break
                ping = ServerSentEvent(comment=f"ping - {datetime.now(UTC)}", sep=SEP)
                await _chunk(send, ping.encode())
            if call.cancelled():
                error = ErrorData(code=REQUEST_CANCELLED, message="Request cancelled")
                reply: JSONRPCMessage = JSONRPCError(jsonrpc="2.0", id=message.id, error=error)
            else:
                reply = call.result()
        finally:
            self._calls.pop(key, None)
            if not call.done():  # the request itself was cancelled (shutdown)
                call.cancel()
        await emit(reply, last=True)  # the stream ends with it, in the same write

    def _cancelled(self, scope: Scope, decoded: Any) -> None:
        """A client's `notifications/cancelled` for a session call running here cancels it (the
        SDK then accepts the notification as usual)."""
        if not self._calls or not isinstance(decoded, dict):
            return
        if decoded.get("method") != "notifications/cancelled" or "id" in decoded:
            return
        params = decoded.get("params")
        session_id = asgi.header(scope, MCP_SESSION_ID_HEADER.encode())
        if isinstance(params, dict) and session_id is not None:
            call = self._calls.get((session_id, str(params.get("requestId"))))
            if call is not None:
                call.cancel()

    # -- the SDK's kernel ------------------------------------------------------------------------

    async def _run(
        self,
        connection: Connection,
        request: Request,
        message: JSONRPCRequest,
        emit: Emit | None,
    ) -> JSONRPCResponse | JSONRPCError:
        """`message` through the SDK's per-connection kernel, errors mapped as its dispatcher
        maps them."""
        runner = ServerRunner(self.server, connection, sdk_private.lifespan_state(self.manager))
        metadata = ServerMessageMetadata(request_context=request, can_send_request=False)
        call = _Call(message.id, metadata, emit)
        try:
            result = await runner.on_request(call, message.method, message.params)
        except Exception as exc:
            error = handler_exception_to_error_data(exc)
            if error is None:
                logger.exception("handler for %r raised", message.method)
                error = ErrorData(code=0, message=str(exc))  # the SDK's dispatcher says 0 too
            return JSONRPCError(jsonrpc="2.0", id=message.id, error=error)
        finally:
            call.closed = True
        return JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)


def _may_ask_client(connection: Connection) -> bool:
    """Whether a call on this connection could make a server-to-client request."""
    caps = connection.client_capabilities
    return caps is not None and (caps.sampling is not None or caps.elicitation is not None)


@functools.cache
def _sse_static_head() -> tuple[tuple[bytes, bytes], ...]:
    """An event stream's response headers as sse-starlette writes them, less the session's
    (built once: an EventSourceResponse per call cost ~30 µs of it)."""
    headers = {
        "Cache-Control": "no-cache, no-transform",
        "Connection": "keep-alive",
        "Content-Type": CONTENT_TYPE_SSE,
    }
    return tuple(EventSourceResponse(content=iter(()), headers=headers).raw_headers)


def _sse_head(session_id: str) -> list[tuple[bytes, bytes]]:
    return [*_sse_static_head(), (MCP_SESSION_ID_HEADER.encode(), session_id.encode())]


async def _chunk(send: Send, body: bytes, *, more: bool = True) -> None:
    """Events on the wire (`more=False`: the stream's last); a client that went away misses
    them (they are in the store)."""
    try:
        await send({"type": "http.response.body", "body": body, "more_body": more})
    except OSError as exc:
        logger.debug("event not sent: %s", exc)


def _kind(server: Server[Any], scope: Scope, decoded: Any) -> str:
    """A bounded label: a served method's name, else the kind of message."""
    if scope.get("method") != "POST":
        verb = str(scope.get("method", "")).lower()
        return verb if verb in ("get", "delete") else "other"
    if isinstance(decoded, list):
        return "batch"
    if not isinstance(decoded, dict):
        return "invalid"
    method = decoded.get("method")
    if not isinstance(method, str):
        return "response"
    if "id" not in decoded:
        return "notification"
    known = method == "initialize" or server.get_request_handler(method) is not None
    return method if known else "other"
