"""The ASGI app: MCP at `/mcp`, liveness at `/healthz`, upstream readiness at `/readyz`, A2A at
`/a2a/...` and `/.well-known/agent-card.json`; the gateway started and stopped by the app's
lifespan. Built from plain routes, as Starlette apps are."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator
from typing import Any

from llmspell.protocols.mcp import McpServer
from llmspell.protocols.mcp.http import HttpOptions, asgi_app, session_manager
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, Router
from starlette.types import Receive, Scope, Send

from .gateway import Gateway


def build_app(
    gateway: Gateway, mcp: McpServer, options: HttpOptions, base_url: str | None = None
) -> Starlette:
    """`base_url` (where the gateway is reached) turns on A2A: agent cards carry absolute URLs."""
    manager = session_manager(mcp, options)
    a2a = (
        _LazyA2A(gateway, base_url) if base_url is not None and gateway.config.a2a.enabled else None
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
            *([Mount("", app=a2a)] if a2a is not None else []),
        ],
        lifespan=lifespan,
    )


class _LazyA2A:
    """The A2A routes (`/a2a/...`, `/.well-known/agent-card.json`), built on the first request
    that reaches them: importing the SDK costs about 0.7 s, which MCP clients should not wait
    for at start-up."""

    def __init__(self, gateway: Gateway, base_url: str) -> None:
        self.gateway = gateway
        self.base_url = base_url
        self.server: Any = None
        self._router: Router | None = None
        self._lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._router is None:
            async with self._lock:
                if self._router is None:
                    self._router = await self._build()
        await self._router(scope, receive, send)

    async def _build(self) -> Router:
        import llmspell

        # The import runs off the loop so requests already in flight keep moving.
        module = await asyncio.to_thread(importlib.import_module, "llmspell.protocols.a2a.server")
        config = self.gateway.config
        self.server = module.A2AServer(
            self.gateway.runtime,
            module.A2AOptions(
                self.base_url,
                config.a2a_database(),
                llmspell.__version__,
                config.name,
                config.instructions or f"{config.name}: its agents, workflows and tools as skills",
            ),
        )
        return Router(routes=self.server.routes())

    async def aclose(self) -> None:
        if self.server is not None:
            await self.server.aclose()
