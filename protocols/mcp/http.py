"""MCP over Streamable HTTP: the SDK's session manager as an ASGI app to mount at `/mcp`."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from .event_store import MemoryEventStore
from .server import McpServer

LOOPBACK = ("127.0.0.1", "localhost", "::1")


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


def session_manager(server: McpServer, options: HttpOptions) -> StreamableHTTPSessionManager:
    return StreamableHTTPSessionManager(
        app=server.server,
        event_store=None if options.stateless else MemoryEventStore(),
        json_response=options.stateless,
        stateless=options.stateless,
        security_settings=_security(options),
        retry_interval=None if options.stateless else options.retry_ms,
        max_request_body_size=options.max_body,
    )


def asgi_app(manager: StreamableHTTPSessionManager) -> StreamableHTTPASGIApp:
    return StreamableHTTPASGIApp(manager)


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
