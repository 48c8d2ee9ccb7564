"""The `retry` built-in: run an idempotent tool again when it failed for a passing reason.

Transient failures are the raised errors `unavailable`, `timeout` and `rate_limited` (an upstream
down, slow or over its rate). A result with `is_error` is an answer, not a failure, and is never
retried. Only tools annotated `idempotent` or `read_only` are retried: running any other tool
twice may do twice what the caller asked once.

Why a `before_tool` hook that makes the attempts itself: a hook cannot run the call again after
it failed (the `error` point only observes), and the pipeline is not ours to change. So the hook,
at the very end of `before_tool` (priority 110, after the hooks that rewrite arguments, cancel or
answer from the cache), runs the handler through `Pipeline.bounded` (the call's deadline and
cancellation, as the pipeline itself would) and answers with `replace` when an attempt succeeds.
It makes at most `max` attempts, waiting `backoff`, then twice that, and so on (a `retry_after`
an upstream gives is honoured when longer). When they all failed transiently it steps aside: the
pipeline makes the last attempt itself, so that attempt's failure reaches the caller, the metrics,
the events and the `error` point like any failure. What this costs, said plainly: a call answered
by the hook is timed by the metrics as an answered-from-hook call (near zero), and a failure
that is not transient, met by one of the hook's attempts, is raised from the hook (before the
pipeline's observers and `error` point see a call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.hooks import HookRegistry
from llmspell.runtime.invocation import current
from llmspell.runtime.pipeline import Pipeline

TRANSIENT = frozenset({ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT, ErrorCode.RATE_LIMITED})
PRIORITY = 110


class Retry:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        max: int = 2,
        backoff: float = 0.2,
        factor: float = 2.0,
        max_delay: float = 10.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.pipeline = pipeline
        self.max = max
        """Extra attempts after the first: the hook makes up to this many, the pipeline one."""
        self.backoff = backoff
        self.factor = factor
        self.max_delay = max_delay
        """The longest wait between attempts, whatever backoff or `retry_after` say."""
        self._sleep = sleep
        self.retries = 0

    def install(self, hooks: HookRegistry) -> list[int]:
        return [hooks.register("before_tool", self.before, priority=PRIORITY, name="builtin:retry")]

    async def before(self, ctx: dict[str, Any]) -> dict[str, Any] | None:
        component = self.pipeline.catalog.find(ctx["component"])
        inv = current.get()
        if component is None or inv is None or self.max <= 0:
            return None
        if not (component.annotations.idempotent or component.annotations.read_only):
            return None
        for attempt in range(self.max):
            try:
                result = await self.pipeline.bounded(component, inv, component.handler)
            except LLMSpellError as exc:
                if exc.code not in TRANSIENT or inv.cancel.cancelled:
                    raise
                delay = self.backoff * self.factor**attempt
                after = exc.data.get("retry_after")
                if isinstance(after, int | float) and after > delay:
                    delay = float(after)
                delay = min(delay, self.max_delay)
                left = inv.remaining()
                if left is not None and left <= delay:
                    raise  # no time for another attempt: the caller hears this failure
                self.retries += 1
                await self._sleep(delay)
                continue
            return {"action": "replace", "result": result.to_plain()}
        return None  # every attempt failed transiently: the pipeline makes the last one
