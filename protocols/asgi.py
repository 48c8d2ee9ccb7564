"""What the gateway's ASGI layers share about a request: the caller the auth found, and the body
read ahead of the app (to cap it or check it) and handed on unchanged.

Protocols and the gateway both use it, so it lives below both (`protocols/` may not import
`gateway/`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmspell.runtime import Identity
from starlette.types import Message, Receive, Scope

_IDENTITY = "identity"
"""The key under `scope["state"]`: Starlette copies that dict into `request.state`."""


def set_caller(scope: Scope, identity: Identity) -> None:
    """Record who the gateway's auth says is calling, for the layers the request reaches next."""
    scope.setdefault("state", {})[_IDENTITY] = identity


def caller(scope: Any) -> Identity | None:
    """Who is calling, as `set_caller` recorded it; None when auth is off or found no one (a
    public path). `scope` may be anything a transport hands on (None on stdio)."""
    state = scope.get("state") if isinstance(scope, dict) else None
    identity = state.get(_IDENTITY) if isinstance(state, dict) else None
    return identity if isinstance(identity, Identity) else None


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lower case), straight from the scope: cheaper
    than building Starlette's Headers on a path every request takes."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, when it gives a valid one."""
    text = header(scope, b"content-length")
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else None


@dataclass(slots=True)
class Body:
    """A request body read ahead of the app. `complete`: its last chunk came; `over`: reading
    stopped because it passed the limit (`data` then holds more than the limit). Neither means
    the client went away first: `rest` then holds the disconnect, passed on as it came."""

    data: bytes
    complete: bool
    over: bool = False
    rest: list[Message] = field(default_factory=list)

    @property
    def disconnected(self) -> bool:
        return not self.complete and not self.over

    def replay(self, receive: Receive) -> Receive:
        """A `receive` that hands the app this body as one chunk, then the rest of the
        messages as they come."""
        pending: list[Message] = [
            {"type": "http.request", "body": self.data, "more_body": not self.complete},
            *self.rest,
        ]

        async def replayed() -> Message:
            return pending.pop(0) if pending else await receive()

        return replayed


async def read_body(receive: Receive, limit: int | None = None) -> Body:
    """Read the body; with a `limit`, stop as soon as it is over (then `over` is set)."""
    data = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return Body(bytes(data), False, rest=[message])
        data += message.get("body", b"")
        if limit is not None and len(data) > limit:
            return Body(bytes(data), False, over=True)
        if not message.get("more_body", False):
            return Body(bytes(data), True)
