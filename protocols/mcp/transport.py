"""The transport to one upstream server (stdio, Streamable HTTP or SSE), watched for what the
SDK's transports do not report at once: the stream ending, a refused connection, a session the
server no longer knows."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

import anyio
import httpx2
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from .spec import ServerSpec

Lost = Literal["refused", "expired", "dropped", "login"]
"""How a session was lost: refused and expired requests never reached a tool; dropped may have;
login: the OAuth tokens ran out (`auth = "oauth"`), and nothing reached the server."""
Lose = Callable[[Lost, str], None]
OnHttp = Callable[[httpx2.AsyncClient, httpx2.AsyncBaseTransport], None]


def connect(
    spec: ServerSpec,
    lose: Lose,
    auth: httpx2.Auth | None = None,
    *,
    on_http: OnHttp | None = None,
) -> AbstractAsyncContextManager[Any]:
    """The read and write streams of a new connection to `spec`'s server (HTTP requests signed
    by `auth` when given); `lose` hears how it was lost, as soon as that is seen. `on_http`
    gets a Streamable HTTP connection's client and the transport under it (the lean call path
    shares its pool, auth and watch)."""
    transport = _transport(spec, lose, auth, on_http)
    return _watched(transport, lambda: lose("dropped", "connection closed"))


def _transport(
    spec: ServerSpec,
    lose: Lose,
    auth: httpx2.Auth | None,
    on_http: OnHttp | None = None,
) -> Any:
    if spec.command is not None:
        params = StdioServerParameters(
            command=spec.command, args=spec.args, env=spec.env or None, cwd=spec.cwd
        )
        return stdio_client(params)
    assert spec.url is not None
    if spec.transport == "sse":
        return sse_client(spec.url, headers=spec.headers or None, auth=auth)
    watch = _Watch(httpx2.AsyncHTTPTransport(), lose)
    http = httpx2.AsyncClient(
        headers=spec.headers or None,
        auth=auth,
        timeout=httpx2.Timeout(30.0, read=300.0),  # the SDK's defaults: SSE streams idle
        transport=watch,
    )
    if on_http is not None:
        on_http(http, watch)
    return _owning(http, streamable_http_client(spec.url, http_client=http))


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
