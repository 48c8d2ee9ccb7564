"""`Hook`: a script function at one of the pipeline's interception points (`before_tool`...)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime.hooks import HookBatch

from ..engine import HostFunction, ScriptFunction
from .arguments import API_ERROR, ScriptAPIError, as_object, need
from .binding import sync

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {
        "register": sync(partial(register, host)),
        "unregister": sync(host.runtime.hooks.unregister),
    }


def register(host: ScriptHost, point: Any, fn: Any, opts: Any = None) -> int:
    need(isinstance(point, str), "Hook.register(point, fn, opts): point must be a string")
    need(isinstance(fn, ScriptFunction), "Hook.register(point, fn, opts): fn must be a function")
    options = as_object(opts, "Hook.register(point, fn, opts): opts")

    async def hook(ctx: dict[str, Any]) -> Any:
        return await fn.engine.call(fn, ctx)

    engine = fn.engine
    try:
        return host.runtime.hooks.register(
            point,
            hook,
            priority=options.get("priority", "normal"),
            match=options.get("match"),
            name=str(options.get("name") or ""),
            batch=(engine, fn) if isinstance(engine, HookBatch) else None,
        )
    except ValueError as exc:
        raise ScriptAPIError(API_ERROR, str(exc)) from None
