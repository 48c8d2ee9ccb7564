"""The `logging` built-in: one line per call on the `llmspell.calls` logger.

`component kind caller status duration_ms` for every tool, agent and workflow call: `ok` or
`error` (a result with is_error) at the `after_*` points, the error code and message at the
`error` point. The start time is noted by a `before_*` hook that runs first (priority -100), so
the duration covers the other hooks as well as the call; the line is written last (priority
120), once every other hook has had its say. The line goes through the `redact` built-in's
redactor when one is configured, so a secret in an error message is masked.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from llmspell.runtime.hooks import HookRegistry
from llmspell.runtime.invocation import Invocation, current

KINDS = ("tool", "agent", "workflow")
FIRST, LAST = -100, 120
PENDING_CAP = 10_000
"""Start times kept for calls that never reach an after or error point (cancelled by a hook)."""


class CallLog:
    def __init__(
        self,
        *,
        redact: Callable[[str], str] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.logger = logger or logging.getLogger("llmspell.calls")
        self._redact = redact
        self._started: OrderedDict[int, tuple[Invocation, float]] = OrderedDict()

    def install(self, hooks: HookRegistry) -> list[int]:
        name = "builtin:logging"
        ids = [hooks.register(f"before_{k}", self.before, priority=FIRST, name=name) for k in KINDS]
        ids += [hooks.register(f"after_{k}", self.after, priority=LAST, name=name) for k in KINDS]
        ids.append(hooks.register("error", self.error, priority=LAST, name=name))
        return ids

    async def before(self, ctx: dict[str, Any]) -> None:
        inv = current.get()
        if inv is None:
            return
        # the invocation is held with its time, so its id cannot be reused while noted
        self._started[id(inv)] = (inv, time.perf_counter())
        while len(self._started) > PENDING_CAP:
            self._started.popitem(last=False)

    def _duration(self, ctx: dict[str, Any]) -> str:
        found = self._take(ctx)
        return "" if found is None else f" duration_ms={(time.perf_counter() - found) * 1000:.1f}"

    def _take(self, ctx: dict[str, Any]) -> float | None:
        """The call's start time. After-hooks run as part of the call (`current` is it); the
        `error` point runs after it, so there the call is the one holding these arguments."""
        inv = current.get()
        if inv is not None and inv.name == ctx.get("component"):
            found = self._started.pop(id(inv), None)
            if found is not None and found[0] is inv:
                return found[1]
        arguments = ctx.get("arguments")
        for key, (held, started) in reversed(self._started.items()):
            if held.arguments is arguments:
                del self._started[key]
                return started
        return None

    def _line(self, level: int, ctx: dict[str, Any], status: str, extra: str = "") -> None:
        line = (
            f"{ctx.get('kind', '?')} {ctx.get('component', '?')} caller={ctx.get('caller', '?')} "
            f"status={status}{self._duration(ctx)}{extra}"
        )
        self.logger.log(level, self._redact(line) if self._redact is not None else line)

    async def after(self, ctx: dict[str, Any]) -> None:
        result = ctx.get("result")
        failed = isinstance(result, dict) and bool(result.get("is_error"))
        self._line(logging.INFO, ctx, "error" if failed else "ok")

    async def error(self, ctx: dict[str, Any]) -> None:
        error = ctx.get("error") or {}
        self._line(
            logging.WARNING,
            ctx,
            str(error.get("code", "failed")),
            f" error={error.get('message', '')!r}",
        )
