"""The ASGI app: MCP at `/mcp`, liveness at `/healthz`, upstream readiness at `/readyz`, the
gateway started and stopped by the app's lifespan. Built from plain routes, as Starlette apps
are."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from llmspell.protocols.mcp import McpServer
from llmspell.protocols.mcp.http import HttpOptions, asgi_app, session_manager
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from .gateway import Gateway


def build_app(
    gateway: Gateway, mcp: McpServer, options: HttpOptions, base_url: str | None = None
) -> Starlette:
    """`base_url` (where the gateway is reached) turns on A2A: agent cards carry absolute URLs."""
    manager = session_manager(mcp, options)
    a2a_routes: list[BaseRoute] = []
    a2a = None
    if base_url is not None and gateway.config.a2a.enabled:
        from llmspell.protocols.a2a.server import A2AOptions, A2AServer

        import llmspell

        a2a = A2AServer(
            gateway.runtime,
            A2AOptions(
                base_url,
                gateway.config.a2a_database(),
                llmspell.__version__,
                gateway.config.name,
                gateway.config.instructions
                or f"{gateway.config.name}: its agents, workflows and tools as A2A skills",
            ),
        )
        a2a_routes = a2a.routes()

    async def health(request: Request) -> JSONResponse:
        summary = gateway.summary()
        return JSONResponse(
            {"status": "ok", **{k: len(v) for k, v in summary.items() if k != "scripts"}}
        )

    async def ready(request: Request) -> JSONResponse:
        """Ready when every upstream is; the body says which are not and why."""
        upstreams = gateway.upstreams()
        ok = all(u["state"] == "ready" for u in upstreams)
        return JSONResponse(
            {"status": "ready" if ok else "degraded", "upstreams": upstreams},
            status_code=200 if ok else 503,
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            try:
                yield
            finally:
                if a2a is not None:
                    await a2a.aclose()

    return Starlette(
        routes=[
            Route(gateway.config.http.path, endpoint=asgi_app(manager)),
            Route("/healthz", health, methods=["GET"]),
            Route("/readyz", ready, methods=["GET"]),
            *a2a_routes,
        ],
        lifespan=lifespan,
    )
