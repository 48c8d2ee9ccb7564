"""`/api/v1/jobs...`: the scheduler's jobs from outside: list them, look at one and its runs,
run one now, pause and resume it. Served by `llmspell serve`; a gateway without a scheduler
answers 404 saying so, so a client learns it is talking to the wrong process."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..scheduler import UnknownJob
from .errors import ApiError, query_flag, query_int

if TYPE_CHECKING:
    from ..scheduler import JobStatus, RunRecord, Scheduler


MAX_RUNS = 1000

RUN_RECORD: dict[str, Any] = {
    "type": "object",
    "description": "One run of a job.",
    "properties": {
        "id": {"type": "string"},
        "job": {"type": "string"},
        "trigger": {"enum": ["schedule", "manual"]},
        "status": {"enum": ["running", "ok", "error", "skipped", "cancelled"]},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "result": {"type": ["object", "null"], "description": "The call's result, when done"},
        "error": {"type": ["string", "null"]},
    },
    "required": ["id", "job", "trigger", "status", "started_at", "finished_at"],
}
JOB_STATUS: dict[str, Any] = {
    "type": "object",
    "description": "A scheduled job and where it stands.",
    "properties": {
        "name": {"type": "string"},
        "schedule": {"type": "string", "description": "`every 1s` or a cron expression"},
        "target": {"type": "string", "description": "What it runs: a tool, workflow or script"},
        "paused": {"type": "boolean"},
        "running": {"type": "boolean"},
        "next_run": {"type": ["string", "null"], "format": "date-time"},
        "last_run": {"oneOf": [{"$ref": "#/components/schemas/RunRecord"}, {"type": "null"}]},
    },
    "required": ["name", "schedule", "target", "paused", "running", "next_run", "last_run"],
}

Handler = Callable[[Request], Awaitable[Response]]


def plain(record: JobStatus | RunRecord) -> dict[str, Any]:
    return dataclasses.asdict(record)


Suggest = Callable[..., list[str]]
"""`Catalog.suggest(name, among=names)`: the close names, as the catalog offers them."""


def routes(scheduler: Scheduler | None, suggest: Suggest) -> list[Route]:
    def need() -> Scheduler:
        if scheduler is None:
            raise ApiError(
                404,
                "no_scheduler",
                "no scheduler runs here: jobs are served by `llmspell serve`, "
                "not `llmspell gateway`",
            )
        return scheduler

    def unknown(name: str) -> ApiError:
        close = suggest(name, among=[j.name for j in need().jobs()])
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return ApiError(
            404, "unknown_job", f"unknown job {name!r}{hint}", {"name": name, "suggestions": close}
        )

    def on_job(act: Callable[[Scheduler, str, Request], Awaitable[Response]]) -> Handler:
        """An endpoint for `/jobs/{name}...`: an unknown name is 404 with suggestions."""

        async def endpoint(request: Request) -> Response:
            name = request.path_params["name"]
            control = need()
            try:
                return await act(control, name, request)
            except UnknownJob:
                raise unknown(name) from None

        return endpoint

    async def list_jobs(request: Request) -> Response:
        return JSONResponse([plain(j) for j in need().jobs()])

    async def show(control: Scheduler, name: str, request: Request) -> Response:
        return JSONResponse(plain(control.job(name)))

    async def runs(control: Scheduler, name: str, request: Request) -> Response:
        limit = query_int(request, "limit", 20, 1, MAX_RUNS)
        return JSONResponse([plain(r) for r in await control.runs(name, limit)])

    async def run(control: Scheduler, name: str, request: Request) -> Response:
        """202 with the run just started; with `?wait=true`, 200 once it has finished."""
        wait = query_flag(request, "wait")
        record = await control.trigger(name, wait=wait)
        return JSONResponse(plain(record), status_code=200 if wait else 202)

    async def pause(control: Scheduler, name: str, request: Request) -> Response:
        return JSONResponse(plain(await control.pause(name)))

    async def resume(control: Scheduler, name: str, request: Request) -> Response:
        return JSONResponse(plain(await control.resume(name)))

    return [
        Route("/jobs", list_jobs, methods=["GET"]),
        Route("/jobs/{name}", on_job(show), methods=["GET"]),
        Route("/jobs/{name}/runs", on_job(runs), methods=["GET"]),
        Route("/jobs/{name}/run", on_job(run), methods=["POST"]),
        Route("/jobs/{name}/pause", on_job(pause), methods=["POST"]),
        Route("/jobs/{name}/resume", on_job(resume), methods=["POST"]),
    ]
