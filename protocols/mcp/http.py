"""MCP over Streamable HTTP: the SDK's session manager as an ASGI app to mount at `/mcp`, behind
a thin guard that answers every refusal as a JSON-RPC error (see `_Guard`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pydantic_core
from mcp.server.streamable_http import EventStore
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp_types import jsonrpc_message_adapter
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import asgi
from ..asgi import declared_length, read_body
from . import lean_server, sdk_private
from .event_store import MemoryEventStore
from .server import McpServer
from .sessions import session_hook

LOOPBACK = ("127.0.0.1", "localhost", "::1")
INVALID_REQUEST = -32600


@dataclass(frozen=True, slots=True)
class HttpOptions:
    host: str = "127.0.0.1"
    stateless: bool = False
    """JSON responses and no sessions, so any replica behind a load balancer can answer."""
    max_body: int = 4 * 1024 * 1024
    retry_ms: int | None = 1000
    """SSE `retry:` hint for clients that poll a closed stream (SEP-1699)."""
    allowed_hosts: tuple[str, ...] = ()
    """Extra Host values to accept; loopback binds accept only loopback names (DNS rebinding)."""
    events: EventStore | None = None
    """Where SSE events are kept for resuming; None: a bounded store in memory."""


def session_manager(server: McpServer, options: HttpOptions) -> StreamableHTTPSessionManager:
    manager = StreamableHTTPSessionManager(
        app=server.server,
        event_store=None if options.stateless else (options.events or MemoryEventStore()),
        json_response=options.stateless,
        stateless=options.stateless,
        security_settings=_security(options),
        retry_interval=None if options.stateless else options.retry_ms,
        max_request_body_size=options.max_body,
    )
    if not options.stateless:
        hooks = server.runtime.hooks

        async def opened(session_id: str, scope: Scope) -> None:
            caller = asgi.caller(scope)
            client = Headers(scope=scope).get("user-agent", "")
            said = {"session": session_id, "client": client, "caller": caller and caller.subject}
            await session_hook(hooks, "mcp_session_open", said)

        async def ended(session_id: str) -> None:
            await session_hook(hooks, "mcp_session_close", {"session": session_id, "caller": None})

        sdk_private.watch_sessions(manager, opened, ended)
    return manager


def asgi_app(manager: StreamableHTTPSessionManager) -> ASGIApp:
    return _Guard(StreamableHTTPASGIApp(manager), manager)


def lean_stats(manager: StreamableHTTPSessionManager) -> dict[str, Any]:
    """How `/mcp` requests were answered: by the lean leg or the SDK (`lean_server`)."""
    return lean_server.stats(manager).public()


def _security(options: HttpOptions) -> TransportSecuritySettings | None:
    """Localhost servers must refuse other Host/Origin headers (DNS rebinding protection)."""
    if options.host not in LOOPBACK and not options.allowed_hosts:
        return None
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *options.allowed_hosts]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    origins += [f"http://{h}" for h in options.allowed_hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


class _Guard:
    """What the SDK's transport leaves undone, found by fuzzing a live gateway
    (tests/hardening/test_fuzz.py):

    - refusals made before JSON-RPC (a wrong Content-Type, an oversize body, a foreign Host or
      Origin; on the 2026-07-28 path also a wrong method or Accept) come as plain text or with
      no body at all: here they carry a JSON-RPC error, and a Content-Type other than
      application/json (in any case, with any parameters) is a 415 on both paths;
    - on the handshake-era path a request whose `id` is not a string or an integer passes for
      a notification (202, so its client waits forever), and a body that is not one JSON-RPC
      message gets -32602 (invalid params) with pydantic's whole report: here both are -32600
      (invalid request), as the 2026-07-28 path answers them.

    The SDK's order is kept: Content-Type, then Host/Origin, then the body."""

    def __init__(self, app: ASGIApp, manager: StreamableHTTPSessionManager) -> None:
        self.app = app
        self.max_body = manager.max_request_body_size
        self.security = TransportSecurityMiddleware(manager.security_settings)
        self.lean = lean_server.LeanServer(manager, self.security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _json_refusals(send)
        if scope["method"] != "POST":
            self.lean.count_sdk(scope, None)
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        raw_media = headers.get("content-type", "")
        media = raw_media.partition(";")[0].strip().lower()
        if media != "application/json":
            message = "Unsupported Media Type: Content-Type must be application/json"
            await _error(send, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, message)
            return
        if raw_media != "application/json":
            scope = _plain_json(scope)
        declared = declared_length(scope)
        body = None
        if declared is None or declared <= self.max_body:
            body = await read_body(receive, self.max_body)
        refusal = None
        decoded = _decode(body.data) if body is not None and body.complete else UNPARSABLE
        if body is None or body.over:
            message = f"Request body too large: the limit is {self.max_body} bytes"
            refusal = (None, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, message)
        else:
            version = headers.get("mcp-protocol-version")
            if body.complete and (version is None or version in HANDSHAKE_PROTOCOL_VERSIONS):
                problem = _envelope_problem(decoded)
                if problem is not None:
                    refusal = (problem[0], HTTPStatus.BAD_REQUEST, problem[1])
        if refusal is not None:
            # Host/Origin first, as the SDK orders them; a good request leaves that check to
            # the SDK alone, so it does not run twice on every call.
            refused = await self.security.validate_request(Request(scope), is_post=True)
            if refused is not None:
                await refused(scope, receive, send)
                return
            rid, status, message = refusal
            await _error(send, status, message, rid)
            return
        assert body is not None
        if body.complete and await self.lean.answer(scope, decoded, send):
            return
        await self.app(scope, body.replay(receive), send)


def _plain_json(scope: Scope) -> Scope:
    """Media types are case-insensitive (RFC 9110), the SDK's check is not: it answers 415 to
    `Application/JSON`, and on the 2026-07-28 path lets `application/json-rpc` through."""
    headers = [
        (k, b"application/json") if k == b"content-type" else (k, v) for k, v in scope["headers"]
    ]
    return {**scope, "headers": headers}


UNPARSABLE = object()
"""A body that is no JSON (the SDK answers it: -32700 and where)."""


def _decode(body: bytes) -> Any:
    """The body parsed once, for the envelope check and the lean leg alike, with the SDK's
    parser so both agree with it; UNPARSABLE when it is no JSON."""
    try:
        return pydantic_core.from_json(body)
    except ValueError:
        return UNPARSABLE


def _envelope_problem(decoded: Any) -> tuple[Any, str] | None:
    """Why a handshake-era body is not one JSON-RPC message, with the id to answer with; None
    lets the SDK answer (unparsable JSON included: it says -32700 and where)."""
    if decoded is UNPARSABLE:
        return None
    if not isinstance(decoded, dict):
        kind = "a batch (not supported)" if isinstance(decoded, list) else "not an object"
        return None, f"Invalid Request: the body must be one JSON-RPC message, got {kind}"
    rid = decoded.get("id")
    valid = isinstance(rid, str) or (isinstance(rid, int) and not isinstance(rid, bool))
    if "method" in decoded and "id" in decoded and not valid:
        return None, "Invalid Request: id must be a string or an integer"
    params = decoded.get("params")
    if (
        decoded.get("jsonrpc") == "2.0"
        and isinstance(decoded.get("method"), str)
        and (params is None or isinstance(params, dict))
    ):
        return None  # a well-formed request: the SDK validates it; no second model pass
    try:
        jsonrpc_message_adapter.validate_python(decoded, by_name=False)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return (rid if valid else None), f"Invalid Request: {where}: {first['msg']}"
    return None


def _json_refusals(send: Send) -> Send:
    """Gives a 4xx refusal that is not JSON (plain text or empty) a JSON-RPC error body, with
    the same status and headers."""
    held: Message | None = None
    text = bytearray()

    async def wrapped(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
            media = Headers(raw=message.get("headers", [])).get("content-type", "")
            if not media.startswith("application/json"):
                held = message
                return
        if held is None or message["type"] != "http.response.body":
            await send(message)
            return
        text.extend(message.get("body", b""))
        if message.get("more_body", False):
            return
        status = held["status"]
        kept = [
            (k, v)
            for k, v in held.get("headers", [])
            if k.lower() not in (b"content-type", b"content-length")
        ]
        phrase = next((s.phrase for s in HTTPStatus if s == status), "Refused")
        said = text.decode("utf-8", "replace").strip() or phrase
        await _error(send, status, said, None, kept)

    return wrapped


async def _error(
    send: Send,
    status: int,
    message: str,
    rid: Any = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    error = {"code": INVALID_REQUEST, "message": message}
    body = json.dumps({"jsonrpc": "2.0", "id": rid, "error": error}, separators=(",", ":")).encode()
    raw = [
        *(headers or []),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
