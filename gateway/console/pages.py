"""The console's pages. Each reads what it shows from the gateway's own endpoints through
`Gateway.request` (the control API, `/readyz`) and renders it on the server; `console.js`
only enhances them (filtering as you type, results without a reload, the live feeds)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from llmspell.protocols.asgi import caller
from llmspell.runtime import Runtime
from llmspell.runtime.hooks import POINTS
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from . import catalog, forms, metrics, session
from .internal import Gateway

if TYPE_CHECKING:
    from jinja2 import Environment

    from ..auth import Authenticator

HERE = Path(__file__).parent
API = "/api/v1"
CALLABLE = ("tool", "agent", "workflow")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Endpoint = Callable[[Request], Awaitable[Response]]


def _environment() -> Environment:
    """Built on the first page served: `llmspell gateway` should not wait for Jinja2."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
    return env


def routes(
    runtime: Runtime, gateway: Gateway, authenticator: Authenticator | None, name: str
) -> list[BaseRoute]:
    built: list[Environment] = []

    def render(
        request: Request, template: str, status: int = 200, stream: bool = False, **context: Any
    ) -> Response:
        """The page; `stream`ed in chunks, rendered off the event loop as it is sent, so the
        browser paints the top of a long page while the rest is still on its way."""
        if not built:
            built.append(_environment())
        page = built[0].get_template(template)
        arguments = dict(
            base=request.scope.get("root_path", "").rstrip("/"),
            csrf=session.csrf_token(request),
            gateway_name=name,
            auth=authenticator is not None,
            who=getattr(caller(request.scope), "subject", None),
            path=session.route_path(request.scope),
            **context,
        )
        response: Response
        if stream:
            response = StreamingResponse(
                _chunked(page.generate(**arguments)),
                status,
                headers=SECURITY_HEADERS,
                media_type="text/html; charset=utf-8",
            )
        else:
            response = HTMLResponse(page.render(**arguments), status, headers=SECURITY_HEADERS)
        return session.remember_csrf(request, response)

    def base_of(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def index(request: Request) -> Response:
        return RedirectResponse(f"{base_of(request)}/catalog", status_code=303)

    async def login(request: Request) -> Response:
        target = _local(request.query_params.get("next", "/catalog"))
        if request.method == "GET":
            return render(request, "login.html", next=target)
        form = await request.form()
        target = _local(str(form.get("next") or "/catalog"))
        credential = str(form.get("credential") or "").strip()
        if authenticator is None:
            return RedirectResponse(f"{base_of(request)}{target}", status_code=303)
        from ..auth import AuthFailure

        try:
            await authenticator.authenticate({"authorization": f"Bearer {credential}"})
        except AuthFailure as failure:
            message = "enter an API key or a token" if not credential else failure.description
            return render(request, "login.html", failure.status, next=target, error=message)
        response = RedirectResponse(f"{base_of(request)}{target}", status_code=303)
        session.store_credential(request, response, credential)
        return response

    async def logout(request: Request) -> Response:
        response = RedirectResponse(f"{base_of(request)}/login", status_code=303)
        session.forget_credential(request, response)
        return response

    async def catalog_page(request: Request) -> Response:
        started = time.perf_counter()
        listed = await gateway.request("GET", f"{API}/components", request.scope)
        if listed.status != 200:
            return _api_failure(request, render, listed.body, listed.status)
        items = catalog.entries(runtime, listed.body, request.scope)
        counts = {k: sum(1 for e in items if e.kind == k) for k in catalog.KINDS}
        query = request.query_params.get("q", "").strip().lower()
        kind = request.query_params.get("kind", "")
        shown = [
            e
            for e in items
            if (not kind or e.kind == kind)
            and (not query or query in e.name.lower() or query in e.description.lower())
        ]
        return render(
            request,
            "catalog.html",
            stream=True,
            items=shown,
            schemas=[{"input": e.input_schema, "output": e.output_schema} for e in shown],
            total=len(items),
            counts=counts,
            q=query,
            kind=kind,
            kinds=catalog.KINDS,
            built_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    async def find(request: Request, kind: str, name: str) -> dict[str, Any] | None:
        listed = await gateway.request(
            "GET", f"{API}/components", request.scope, query=f"kind={kind}"
        )
        if listed.status != 200 or not isinstance(listed.body, list):
            return None
        return next((c for c in listed.body if c["name"] == name), None)

    async def try_page(request: Request) -> Response:
        kind, name = request.path_params["kind"], request.path_params["name"]
        component = await find(request, kind, name) if kind in CALLABLE else None
        if component is None:
            return render(
                request,
                "error.html",
                404,
                code="unknown_component",
                message=f"no {kind} {name!r} that you may call",
            )
        schema = component.get("input_schema") or {}
        context: dict[str, Any] = {
            "component": component,
            "kind": kind,
            "fields": forms.fields(schema),
            "schema": schema,
            "values": {},
        }
        if request.method == "GET":
            return render(request, "try.html", **context)
        form = {k: str(v) for k, v in (await request.form()).items()}
        context["values"] = form
        try:
            arguments = forms.parse(form, schema)
        except forms.FormError as exc:
            outcome = {"error": {"code": "bad_form", "message": str(exc)}}
            status = 400
        else:
            reply = await gateway.request(
                "POST", f"{API}/{kind}s/{quote(name)}", request.scope, {"input": arguments}
            )
            outcome, status = reply.body, reply.status
        # The page answers with the API's status, so a script (and a test) reads it as is.
        context.update(outcome=outcome, api_status=status)
        template = "_result.html" if request.headers.get("x-console-fragment") else "try.html"
        return render(request, template, status, **context)

    async def upstreams(request: Request) -> Response:
        ready = await gateway.request("GET", "/readyz", request.scope)
        body = ready.body if isinstance(ready.body, dict) else {}
        template = "_upstreams.html" if request.query_params.get("fragment") else "upstreams.html"
        return render(
            request,
            template,
            upstreams=body.get("upstreams", []),
            overall=body.get("status", "unknown"),
        )

    async def activity(request: Request) -> Response:
        topics = ["call.started", "call.finished", "call.failed", "events.dropped"]
        return render(request, "activity.html", topics=[*topics, *(f"hook.{p}" for p in POINTS)])

    async def jobs(request: Request) -> Response:
        reply = await gateway.request("GET", f"{API}/jobs", request.scope)
        listed = reply.body if reply.status == 200 and isinstance(reply.body, list) else None
        error = None if listed is not None else _error_of(reply.body, reply.status)
        done = request.query_params.get("done", "")
        return render(request, "jobs.html", jobs=listed or [], error=error, done=done)

    async def job_action(request: Request) -> Response:
        job, action = request.path_params["name"], request.path_params["action"]
        if action not in ("run", "pause", "resume"):
            return render(request, "error.html", 404, code="not_found", message=action)
        reply = await gateway.request("POST", f"{API}/jobs/{quote(job)}/{action}", request.scope)
        if reply.status >= 400:
            return _api_failure(request, render, reply.body, reply.status)
        done = quote(f"{action}: {job}")
        return RedirectResponse(f"{base_of(request)}/jobs?done={done}", status_code=303)

    async def metrics_page(request: Request) -> Response:
        reply = await gateway.request("GET", "/metrics", request.scope)
        text = reply.body if reply.status == 200 and isinstance(reply.body, str) else ""
        found = metrics.parse(text)
        if request.query_params.get("format") == "json":
            snapshot = {name: c.plain() for name, c in found.items()}
            return JSONResponse(snapshot, headers={"Cache-Control": "no-store"})
        rows = sorted(found.items(), key=lambda item: -item[1].calls)
        return render(request, "metrics.html", rows=rows)

    return [
        Route("/", index, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/catalog", catalog_page, methods=["GET"]),
        Route("/try/{kind}/{name:path}", try_page, methods=["GET", "POST"]),
        Route("/upstreams", upstreams, methods=["GET"]),
        Route("/activity", activity, methods=["GET"]),
        Route("/events", _Events(gateway), methods=["GET"]),
        Route("/jobs", jobs, methods=["GET"]),
        Route("/jobs/{name}/{action}", job_action, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]


def _chunked(parts: Iterator[str], size: int = 16_384) -> Iterator[bytes]:
    buffer: list[str] = []
    held = 0
    for part in parts:
        buffer.append(part)
        held += len(part)
        if held >= size:
            yield "".join(buffer).encode()
            buffer, held = [], 0
    if buffer:
        yield "".join(buffer).encode()


def _local(target: str) -> str:
    """Only a path inside the console: `next` must not send a login elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/catalog"


def _error_of(body: Any, status: int) -> dict[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return {"code": str(error.get("code", status)), "message": str(error.get("message", ""))}
    return {"code": str(status), "message": str(body or "")}


def _api_failure(
    request: Request, render: Callable[..., Response], body: Any, status: int
) -> Response:
    error = _error_of(body, status)
    return render(request, "error.html", status, code=error["code"], message=error["message"])


class _Events:
    """`/ui/events`: the gateway's `/events` SSE stream, for the console's session."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        await self.gateway.forward("/events", scope, receive, send, query)
