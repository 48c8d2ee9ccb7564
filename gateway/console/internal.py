"""The console's way to the gateway: an in-process request to the gateway's own endpoints (the
control API, `/readyz`, `/events`), with the console user as the caller. The request skips the
network and the outer middleware (the console's own gate has already authenticated it) but
takes the same route, so the API's policy checks, error shapes and pipeline are the ones every
other client meets; the console has no second route to the runtime."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(slots=True)
class Reply:
    status: int
    body: Any


class Gateway:
    """The gateway's routes, bound once the app that holds them is built."""

    def __init__(self) -> None:
        self._routes: ASGIApp | None = None

    def bind(self, routes: ASGIApp) -> None:
        self._routes = routes

    @property
    def routes(self) -> ASGIApp:
        if self._routes is None:
            raise RuntimeError("the console is not bound to the gateway's routes")
        return self._routes

    async def request(
        self,
        method: str,
        path: str,
        scope: Scope,
        body: Any = None,
        query: str = "",
    ) -> Reply:
        """One request to `path` on behalf of the caller `scope` (the console's request)."""
        data = b"" if body is None else json.dumps(body).encode()
        inner = _scope(scope, method, path, query)
        inner["headers"] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            (b"accept", b"application/json"),
        ]
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}

        status, chunks = 500, []

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.routes(inner, receive, send)
        raw = b"".join(chunks)
        try:
            parsed = json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = raw.decode("utf-8", "replace")
        return Reply(status, parsed)

    async def forward(
        self, path: str, scope: Scope, receive: Receive, send: Send, query: str = ""
    ) -> None:
        """The console's request handed to `path` as is, streaming (the `/events` feed)."""
        inner = _scope(scope, scope["method"], path, query)
        await self.routes(inner, receive, send)


def _scope(scope: Scope, method: str, path: str, query: str) -> Scope:
    state = dict(scope.get("state") or {})
    return {
        **{k: v for k, v in scope.items() if k not in ("path_params", "endpoint", "route")},
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "state": state,
    }
