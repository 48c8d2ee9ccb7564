"""The REST control API under `/api/v1`: scheduled jobs (`jobs`), the catalog listed and
called (`calls`), and its OpenAPI document (`openapi`). One small Starlette app mounted by the
gateway's, behind the same auth and body cap as `/mcp`; its own exception handlers give every
error, the router's 404 and 405 included, one JSON shape (`errors`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmspell.runtime import Runtime
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from . import calls, jobs, openapi
from .errors import HANDLERS

if TYPE_CHECKING:
    from ..scheduler import Scheduler

__all__ = ["mount"]


def mount(
    runtime: Runtime,
    scheduler: Scheduler | None,
    *,
    title: str,
    version: str,
    server: str | None = None,
    auth: bool = False,
) -> Mount:
    """The API as one `Mount` at `/api/v1`. Without a scheduler the job routes answer 404."""
    document = openapi.document(title=title, version=version, server=server, auth=auth)

    async def spec(request: Request) -> Response:
        return JSONResponse(document)

    routes = [
        *jobs.routes(scheduler, runtime.catalog.suggest),
        *calls.routes(runtime),
        Route("/openapi.json", spec, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers=dict(HANDLERS))
    return Mount(openapi.PREFIX, app=app)
