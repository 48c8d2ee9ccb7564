"""Hooks a gateway installs from its config: the built-ins, and hooks declared by a script file
or a Python entry point (group `llmspell.hooks`).

Each built-in is one small class with an `install(hooks)` that registers it at its points, so it
can be used from Python without the config too. They are ordered by priority so that they
compose: `logging` notes the start first (-100) and writes last (120); `cache` answers late in
`before_tool` (90), after hooks that rewrite arguments or cancel, and stores first in
`after_tool`; `retry` is the last `before_tool` hook (110), since it runs the call; `redact`
masks answers after other after-hooks (100).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmspell.runtime import LLMSpellError
from llmspell.runtime.errors import ErrorCode
from llmspell.runtime.hooks import HookFn

if TYPE_CHECKING:
    from llmspell.runtime import Runtime

    from .cache import ResultCache
    from .logging import CallLog
    from .redact import Redactor
    from .retry import Retry
    from .usage import UsageCounter

GROUP = "llmspell.hooks"


@dataclass(slots=True)
class Builtins:
    """What `install_builtins` put in place, for tests, metrics and `unregister`."""

    cache: ResultCache | None = None
    retry: Retry | None = None
    logging: CallLog | None = None
    redact: Redactor | None = None
    usage: UsageCounter | None = None
    ids: list[int] = field(default_factory=list)


def install_builtins(
    runtime: Runtime,
    *,
    cache: Mapping[str, Any] | None = None,
    retry: Mapping[str, Any] | None = None,
    logging: bool = False,
    redact: Mapping[str, Any] | None = None,
    usage: Mapping[str, Any] | None = None,
) -> Builtins:
    """The built-ins asked for (None or False: not installed), each with its options."""
    out = Builtins()
    hooks = runtime.hooks
    if cache is not None:
        from .cache import ResultCache

        out.cache = ResultCache(runtime.catalog, **cache)
        out.ids += out.cache.install(hooks)
    if retry is not None:
        from .retry import Retry

        out.retry = Retry(runtime.pipeline, **retry)
        out.ids += out.retry.install(hooks)
    if redact is not None:
        from .redact import Redactor

        out.redact = Redactor(**redact)
        out.ids += out.redact.install(hooks)
    if logging:
        from .logging import CallLog

        out.logging = CallLog(redact=out.redact.text if out.redact is not None else None)
        out.ids += out.logging.install(hooks)
    if usage is not None:
        from .usage import UsageCounter

        out.usage = UsageCounter(runtime.state, **usage)
        out.ids += out.usage.install(hooks)
    return out


def python_hook(name: str) -> HookFn:
    """The entry point `name` of the group `llmspell.hooks` (`module:attribute`): a callable
    taking the point's context and returning what a hook returns (awaited when it is async)."""
    from llmspell.adapters.scripts.engine import entry_points

    target = entry_points(GROUP).get(name)
    if target is None:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED,
            f"no entry point {name!r} in the group {GROUP!r} (installed packages declare them)",
        )
    module, _, attribute = target.partition(":")
    try:
        found: Any = importlib.import_module(module.strip())
        for part in attribute.strip().split(".") if attribute.strip() else []:
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED, f"hook entry point {name!r} ({target}): {exc}"
        ) from exc
    if not callable(found):
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED, f"hook entry point {name!r} ({target}) is not callable"
        )
    return _awaiting(found)


def script_hook(value: Any, path: str) -> HookFn:
    """The function a hook script's main chunk returned, called through its engine."""
    from llmspell.adapters.scripts.engine import ScriptFunction

    if not isinstance(value, ScriptFunction):
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED,
            f"hook script {path} must return a function, not {type(value).__name__}",
        )

    async def hook(ctx: dict[str, Any]) -> Any:
        return await value.engine.call(value, ctx)

    return hook


def _awaiting(fn: Any) -> HookFn:
    async def hook(ctx: dict[str, Any]) -> Any:
        out = fn(ctx)
        return await out if inspect.isawaitable(out) else out

    return hook


__all__ = ["GROUP", "Builtins", "install_builtins", "python_hook", "script_hook"]
