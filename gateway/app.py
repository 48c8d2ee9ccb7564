"""The ASGI app: MCP at `/mcp`, liveness at `/healthz`, upstream readiness at `/readyz`, A2A at
`/a2a/...` and `/.well-known/agent-card.json`, the runtime's events at `/events` (SSE); the
gateway started and stopped by the app's lifespan. Built from plain routes, as Starlette apps
are."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from llmspell.protocols.mcp import McpServer, sdk_private
from llmspell.protocols.mcp.http import HttpOptions, asgi_app, lean_stats, session_manager
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import console, events_http
from .assembly import Assembly
from .config import GatewayConfig
from .limits import BodyLimit
from .logs import AccessLog
from .metrics import Metrics

if TYPE_CHECKING:
    from .auth import Authenticator
    from .scheduler import Scheduler


def build_app(
    gateway: Assembly,
    mcp: McpServer,
    options: HttpOptions,
    base_url: str | None = None,
    authenticator: Authenticator | None = None,
    scheduler: Scheduler | None = None,
) -> Starlette:
    """`base_url` (where the gateway is reached) turns on A2A: agent cards carry absolute URLs.
    `authenticator` turns on auth for everything but health and discovery. The control API
    (`/api/v1`) serves `scheduler`'s jobs when there is one (`llmspell serve`)."""
    config = gateway.config
    if gateway.cluster is not None and options.events is None:
        options = replace(options, events=gateway.cluster.events())  # resumable on any replica
    manager = session_manager(mcp, options)
    a2a = (
        _LazyA2A(gateway, base_url, options.host, authenticator)
        if base_url is not None and config.a2a.enabled
        else None
    )
    metrics = Metrics(gateway.runtime)
    if gateway.builtin_hooks is not None and gateway.builtin_hooks.usage is not None:
        metrics.registry.register(gateway.builtin_hooks.usage)  # tokens per agent and model
    # Sessions the HTTP transport holds (the SDK keeps them by id; a modern request has none).
    metrics.gauges(
        gateway.upstreams,
        lambda: sdk_private.session_count(manager),
        lambda: lean_stats(manager),
    )
    ui, ui_gateway = console.mount(gateway, authenticator)
    routes: list[BaseRoute] = [ui]
    middleware = [
        Middleware(AccessLog, on_response=lambda m, s: metrics.requests.labels(m, str(s)).inc()),
        Middleware(BodyLimit, limit=config.http.max_body, skip=(config.http.path,)),
    ]
    if authenticator is not None:
        from .auth import AuthMiddleware

        resource = f"{base_url}{config.http.path}"
        metadata_url, metadata_routes = _resource_metadata(config, authenticator, resource)
        routes += metadata_routes
        middleware.append(
            Middleware(
                AuthMiddleware,
                authenticator=authenticator,
                metadata_url=metadata_url,
                public=(
                    "/healthz",
                    "/readyz",
                    console.PATH,  # redirects to `/ui/`
                    *(str(r.path) for r in metadata_routes if isinstance(r, Route)),
                ),
                public_suffixes=("/.well-known/agent-card.json",),
                public_prefixes=(f"{console.PATH}/",),  # the console checks its own session
            )
        )

    async def health(request: Request) -> JSONResponse:
        summary = gateway.summary()
        return JSONResponse(
            {"status": "ok", **{k: len(v) for k, v in summary.items() if k != "scripts"}}
        )

    async def ready(request: Request) -> JSONResponse:
        """Ready when every upstream is; the body says which are not and why."""
        upstreams = gateway.upstreams()
        ok = all(u["state"] == "ready" for u in upstreams)
        body: dict[str, Any] = {"status": "ready" if ok else "degraded", "upstreams": upstreams}
        body["mcp_requests"] = lean_stats(manager)  # answered by the lean leg or the SDK
        if gateway.cluster is not None:  # the replicas alive now, by their heartbeats
            body["replica"] = gateway.cluster.replica
            try:
                body["peers"] = await gateway.cluster.peers()
            except Exception as exc:  # Redis down: this replica still answers, and says so
                body["peers"], body["cluster_error"] = [], str(exc)
        return JSONResponse(body, status_code=200 if ok else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            if a2a is not None and a2a.grpc:
                # In the background: MCP clients need not wait for the A2A SDK; A2A requests
                # wait for it (and for gRPC), so every card lists what is served.
                a2a.warm_up()
            try:
                yield
            finally:
                await gateway.announce("gateway_stop")
                if a2a is not None:
                    await a2a.aclose()
                if authenticator is not None:
                    await authenticator.aclose()  # its JWKS client

    app = Starlette(
        routes=[
            Route(config.http.path, endpoint=asgi_app(manager)),
            Route("/healthz", health, methods=["GET"]),
            Route("/readyz", ready, methods=["GET"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            Route("/events", events_http.endpoint(gateway.runtime.events), methods=["GET"]),
            _control_api(gateway, scheduler, base_url, authenticator is not None),
            *routes,
            *([Mount("", app=a2a)] if a2a is not None else []),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    ui_gateway.bind(app.router)  # the console reaches the routes above in process
    return app


def _control_api(
    gateway: Assembly, scheduler: Scheduler | None, base_url: str | None, auth: bool
) -> Mount:
    import llmspell

    from . import api

    config, version = gateway.config, llmspell.__version__
    return api.mount(
        gateway.runtime, scheduler, title=config.name, version=version, server=base_url, auth=auth
    )


def _resource_metadata(
    config: GatewayConfig, authenticator: Authenticator, resource: str
) -> tuple[str | None, list[BaseRoute]]:
    """RFC 9728 metadata, so MCP clients learn where to get a token: served when the JWT
    settings name an authorization server (or an issuer, taken as one)."""
    jwt = config.auth.jwt
    servers = (jwt.authorization_servers or ([jwt.issuer] if jwt.issuer else [])) if jwt else []
    if authenticator.jwt is None or not servers:
        return None, []
    from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
    from pydantic import AnyHttpUrl

    routes = create_protected_resource_routes(
        AnyHttpUrl(resource),
        [AnyHttpUrl(s) for s in servers],
        scopes_supported=config.auth.required_scopes or None,
        resource_name=config.name,
    )
    path_suffixed = routes[0]
    assert isinstance(path_suffixed, Route)
    # RFC 9728 section 3.1 puts it under the resource's path (`.../oauth-protected-resource/mcp`);
    # clients that look at the root find the same document there.
    root = Route(ROOT_METADATA, path_suffixed.endpoint, methods=["GET", "OPTIONS"])
    return str(build_resource_metadata_url(AnyHttpUrl(resource))), [*routes, root]


ROOT_METADATA = "/.well-known/oauth-protected-resource"


class _LazyA2A:
    """The A2A routes (`/a2a/...`, `/.well-known/agent-card.json`), built on the first request
    that reaches them: MCP clients should not wait at start-up for the A2A SDK to import.
    With gRPC on, they are built in the background from the start, since the gRPC port has to
    listen before anyone asks."""

    def __init__(
        self, gateway: Assembly, base_url: str, host: str, authenticator: Authenticator | None
    ) -> None:
        self.gateway = gateway
        self.base_url = base_url
        self.host = host
        self.authenticator = authenticator
        self.server: Any = None
        self._router: ASGIApp | None = None
        self._lock = asyncio.Lock()
        self._warm: asyncio.Task[ASGIApp] | None = None
        self.grpc = self._grpc_wanted()

    def _grpc_wanted(self) -> bool:
        """Configured on, or "auto" with the extra installed."""
        setting = self.gateway.config.a2a.grpc
        if setting == "auto":
            from llmspell.protocols.a2a.grpc_server import available

            return available()
        return setting

    def warm_up(self) -> None:
        self._warm = asyncio.create_task(self.ready())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await (await self.ready())(scope, receive, send)

    async def ready(self) -> ASGIApp:
        if self._router is None:
            async with self._lock:
                if self._router is None:
                    self._router = await self._build()
        return self._router

    async def _build(self) -> ASGIApp:
        import llmspell

        # The import runs off the loop so requests already in flight keep moving.
        module = await asyncio.to_thread(importlib.import_module, "llmspell.protocols.a2a.server")
        config, cluster = self.gateway.config, self.gateway.cluster
        self.server = module.A2AServer(
            self.gateway.runtime,
            module.A2AOptions(
                self.base_url,
                config.a2a_database(),
                llmspell.__version__,
                config.name,
                config.instructions or f"{config.name}: its agents, workflows and tools as skills",
                jwt=self.authenticator is not None and self.authenticator.jwt is not None,
                api_keys=self.authenticator is not None and bool(self.authenticator.api_keys),
            ),
            self.authenticator,
            # Replicas reach each other's A2A tasks (cancel, resubscribe) through Redis.
            redis=cluster.redis if cluster is not None else None,
            prefix=cluster.key("a2a") if cluster is not None else "llmspell:a2a",
        )
        if self.grpc:
            try:
                target = await self.server.start_grpc(self.host, config.a2a.grpc_port)
            except ImportError as exc:
                hint = "install it with: pip install 'llmspell[grpc]'"
                self.gateway.write(f"llmspell: A2A over gRPC not served: {exc} ({hint})\n")
            except (OSError, RuntimeError) as exc:
                self.gateway.write(f"llmspell: A2A over gRPC not served: {exc}\n")
            else:
                self.gateway.write(f"llmspell: A2A over gRPC at {target}\n")
        app: ASGIApp = self.server.app()
        return app

    async def aclose(self) -> None:
        if self._warm is not None and not self._warm.done():
            self._warm.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warm
        if self.server is not None:
            await self.server.aclose()
