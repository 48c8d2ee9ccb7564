"""`Resource.define`: resources (fixed URIs or templates) the gateway serves over MCP."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Resource, ResourcePart
from llmspell.runtime.content import resource_from_plain

from ..engine import HostFunction, ScriptFunction
from .arguments import API_ERROR, ScriptAPIError, as_object, need
from .binding import sync
from .prompt import completer

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {
        "define": sync(partial(define, host)),
        "updated": sync(host.runtime.resources.updated),
    }


def define(host: ScriptHost, spec: Any) -> str:
    need(isinstance(spec, dict), "Resource.define{...} takes a table/object")
    uri, handler = spec.get("uri"), spec.get("handler")
    need(isinstance(uri, str) and uri != "", "Resource.define: uri must be a non-empty string")
    mime = spec.get("mime_type")
    static = {k: spec[k] for k in ("text", "blob") if k in spec}
    need(
        isinstance(handler, ScriptFunction) or bool(static),
        "Resource.define: give text, blob or a handler function",
    )

    async def read(target: str, params: dict[str, str]) -> list[ResourcePart]:
        value = (
            await handler.engine.call(handler, target, params) if handler is not None else static
        )
        return contents(value, target, mime)

    complete = {
        var: c
        for var, fn in as_object(spec.get("complete"), "Resource.define: complete").items()
        if (c := completer(fn, f"variable {var!r}")) is not None
    }
    mine = uri in host.resources
    host.runtime.resources.register(
        Resource(
            uri,
            str(spec.get("name") or uri),
            read,
            str(spec.get("description") or ""),
            mime if isinstance(mime, str) else None,
            complete,
            host.source,
        ),
        replace=mine,
    )
    if not mine:
        host.resources.append(uri)
    return str(uri)


def contents(value: Any, uri: str, mime: Any) -> list[ResourcePart]:
    """What a resource handler returns: a string (text), bytes (blob), {text=...}/{blob=...},
    or a list of those (each may name its own uri)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            item = {"text": item}
        elif isinstance(item, bytes):
            item = {"blob": item}
        need(isinstance(item, dict), "a resource handler returns text, bytes or {text|blob}")
        item = {"mime_type": mime, **item}
        try:
            out.append(resource_from_plain(item, uri))
        except (ValueError, TypeError) as exc:
            raise ScriptAPIError(API_ERROR, f"resource {uri!r}: {exc}") from None
    return out
