"""Every use of the MCP SDK beyond its public API, in one place.

Each function reaches one private attribute, for want of a public one, and fails with a message
that names it when the installed SDK no longer has it; tests/mcpserver/test_sdk_private.py
runs them all against the installed SDK, so an upgrade that moves one fails there first.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
from mcp.server import Server
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager


class SdkChanged(RuntimeError):
    """The installed MCP SDK lacks something llmspell reaches into."""


def _missing(what: str) -> SdkChanged:
    version = importlib.metadata.version("mcp")
    return SdkChanged(
        f"the installed MCP SDK ({version}) has no {what}; llmspell reaches it in "
        "protocols/mcp/sdk_private.py, which needs updating for this SDK"
    )


def connection(ctx: ServerRequestContext[Any, Any]) -> Connection:
    """The client connection behind a request (its state, its change notifications). The
    request context's session proxies it without exposing it."""
    try:
        conn: Connection = ctx.session._connection
    except AttributeError:
        raise _missing("ServerSession._connection") from None
    return conn


def session_count(manager: StreamableHTTPSessionManager) -> int:
    """Sessions the Streamable HTTP transport holds (by id; stateless requests hold none)."""
    try:
        return len(manager._server_instances)
    except AttributeError:
        raise _missing("StreamableHTTPSessionManager._server_instances") from None


def drop_tracing(server: Server[Any]) -> None:
    """Remove the SDK's OpenTelemetry middleware: it opens a span per request even with no
    tracer provider installed, which a gateway that does not trace should not pay for."""
    try:
        from mcp.server._otel import OpenTelemetryMiddleware
    except ImportError:
        raise _missing("mcp.server._otel.OpenTelemetryMiddleware") from None
    server.middleware = [m for m in server.middleware if not isinstance(m, OpenTelemetryMiddleware)]


SessionOpened = Callable[[str, Any], Awaitable[None]]
SessionEnded = Callable[[str], Awaitable[None]]


def watch_sessions(
    manager: StreamableHTTPSessionManager, opened: SessionOpened, ended: SessionEnded
) -> None:
    """Tell `opened(session_id, scope)` when a Streamable HTTP session is established (its
    opening request answered below 400) and `ended(session_id)` when the manager discards it
    (a client's DELETE, the idle timeout, a crash). The manager has no public callbacks."""
    try:
        serve_opening = manager._serve_opening_request
        discard = manager._discard_session
        sessions = manager._server_instances
    except AttributeError:
        raise _missing("StreamableHTTPSessionManager._serve_opening_request") from None
    announced: set[str] = set()

    async def serve_opening_request(transport: Any, scope: Any, receive: Any, send: Any) -> None:
        await serve_opening(transport, scope, receive, send)
        session_id = transport.mcp_session_id
        if session_id in sessions and session_id not in announced:
            announced.add(session_id)
            await opened(session_id, scope)

    async def discard_session(session_id: str, transport: Any) -> None:
        await discard(session_id, transport)
        if session_id in announced:
            announced.discard(session_id)
            await ended(session_id)

    manager._serve_opening_request = serve_opening_request  # type: ignore[method-assign,assignment]
    manager._discard_session = discard_session  # type: ignore[method-assign]


def lifespan_state(manager: StreamableHTTPSessionManager) -> Any:
    """What the server's lifespan yielded, which the manager hands every connection it serves
    (`ServerRunner(..., lifespan_state)`); None before `run()`."""
    try:
        return manager._lifespan_state
    except AttributeError:
        raise _missing("StreamableHTTPSessionManager._lifespan_state") from None


def running(manager: StreamableHTTPSessionManager) -> bool:
    """Whether the manager's `run()` is in force (it refuses requests outside it)."""
    try:
        return manager._task_group is not None
    except AttributeError:
        raise _missing("StreamableHTTPSessionManager._task_group") from None


def live_transport(manager: StreamableHTTPSessionManager, session_id: str, user: Any) -> Any:
    """The transport of the live session `session_id` when `user` (the request's
    `scope["user"]`) is the principal that opened it and its idle timeout has not fired; else
    None (the SDK then answers the request: 404, or the end of the session)."""
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, authorization_context

    try:
        transport = manager._server_instances.get(session_id)
        owners = manager._session_owners
    except AttributeError:
        raise _missing("StreamableHTTPSessionManager._server_instances") from None
    if transport is None or transport.is_terminated:
        return None
    requestor = authorization_context(user) if isinstance(user, AuthenticatedUser) else None
    if requestor != owners.get(session_id):
        return None
    idle = transport.idle_scope
    if idle is not None and idle.cancel_called:
        return None
    return transport


@contextlib.contextmanager
def in_flight(transport: Any) -> Iterator[None]:
    """Count a request the session's transport does not see as in flight, as its own
    `handle_request` does: the idle countdown pauses while any is served and restarts after."""
    try:
        idle, timeout = transport.idle_scope, transport._idle_timeout
    except AttributeError:
        raise _missing("StreamableHTTPServerTransport._idle_timeout") from None
    if idle is None or timeout is None:
        yield
        return
    transport._requests_in_flight += 1
    idle.deadline = math.inf
    try:
        yield
    finally:
        transport._requests_in_flight -= 1
        if not transport._requests_in_flight:
            idle.deadline = anyio.current_time() + timeout


def resumed_stream(transport: Any, stream_id: str) -> Any:
    """Where the session's transport forwards live events of `stream_id` to a client that
    resumed it (a GET with `Last-Event-ID` registers one after replaying the store), or None."""
    try:
        streams = transport._request_streams
    except AttributeError:
        raise _missing("StreamableHTTPServerTransport._request_streams") from None
    pair = streams.get(stream_id)
    return None if pair is None else pair[0]
