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
from starlette.routing import Route

from .gateway import Gateway


def build_app(gateway: Gateway, mcp: McpServer, options: HttpOptions) -> Starlette:
    manager = session_manager(mcp, options)

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
            yield

    return Starlette(
        routes=[
            Route(gateway.config.http.path, endpoint=asgi_app(manager)),
            Route("/healthz", health, methods=["GET"]),
            Route("/readyz", ready, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
