"""The one path every call takes: lookup, policy, validation, hooks, timeout/cancel, call, events.

Every entry point (MCP, A2A, scripts, CLI) builds an Invocation and calls `Pipeline.invoke`;
nothing else calls a component's handler. Steps that have nothing to do cost nothing: no hooks,
no subscribers and no deadline each skip their work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar, cast

from .catalog import Catalog, CatalogChange
from .component import Component
from .content import Result
from .errors import ErrorCode, LLMSpellError
from .events import EventBus
from .hooks import HookRegistry, Outcome, observe, outcomes
from .invocation import Identity, Invocation, current
from .schema import CompiledSchema, InvalidSchema

_SCRIPT_FAILURES = (ErrorCode.SCRIPT_ERROR, ErrorCode.MEMORY_LIMIT)


class Policy(Protocol):
    """Who may call what. Also asked when listing, so what is denied is not shown."""

    def allows(self, caller: Identity, component: Component) -> bool: ...


T = TypeVar("T")
Call = Callable[[Invocation], Awaitable[T]]
"""What a gated call runs once admitted: a component's handler, a prompt's render..."""
Limiter = Callable[[Invocation, Component], Awaitable[None]]
"""Admits a call or raises LLMSpellError(RATE_LIMITED)."""
Observer = Callable[[Component, Invocation, float, str], None]
"""Told of every finished call: the component, the invocation, seconds, and the outcome (`ok`,
`error` for a result with is_error, or the failure's error code). Must be cheap: it runs on the
call path."""


class Pipeline:
    def __init__(
        self,
        catalog: Catalog,
        hooks: HookRegistry,
        events: EventBus,
        policy: Policy | None = None,
    ) -> None:
        self.catalog = catalog
        self.hooks = hooks
        self.events = events
        self.policy = policy
        self.limiter: Limiter | None = None
        self.observers: list[Observer] = []
        self.default_timeout: float | None = None
        """Seconds a call may take when its caller set no deadline."""
        self.max_result_bytes: int | None = None
        self.tracer: Any = None
        """An OpenTelemetry tracer: each call gets a span (named `<kind> <name>`)."""
        self._schemas: dict[str, tuple[Component, CompiledSchema]] = {}
        catalog.on_change(self._forget)

    def _forget(self, change: CatalogChange) -> None:
        self._schemas.pop(change.name, None)

    def _schema(self, component: Component) -> CompiledSchema:
        cached = self._schemas.get(component.name)
        if cached is None or cached[0] is not component:
            try:
                compiled = CompiledSchema(component.input_schema)
            except InvalidSchema as exc:
                raise LLMSpellError(
                    ErrorCode.COMPONENT_FAILED, f"{component.kind} {component.name!r} has an {exc}"
                ) from None
            cached = (component, compiled)
            self._schemas[component.name] = cached
        return cached[1]

    def allows(self, caller: Identity, component: Component) -> bool:
        return self.policy is None or self.policy.allows(caller, component)

    def invoke(self, inv: Invocation) -> Coroutine[Any, Any, Result]:
        """Run the catalog component `inv.name`. A plain function returning the coroutine, so
        the path every call takes has one frame fewer; the lookup still happens when awaited."""
        return self._run(None, inv, None, True)

    async def gate(self, component: Component, inv: Invocation, call: Call[T]) -> T:
        """The same gate for what is served but is not a catalog component (a prompt rendered,
        a resource read): policy, limits, hooks at its kind's points, deadline and cancellation,
        observers (metrics) and events. `component` names it for policy and metrics."""
        return await self._run(component, inv, call, False)

    def bounded(self, component: Component, inv: Invocation, call: Call[T]) -> Awaitable[T]:
        """Only the deadline, cancellation and error naming, not the gate: for code that runs
        as part of a call already admitted (a workflow's inline step or stream source), which
        policy and hooks saw as that call. What such code calls is a gated child again."""
        return self._call(component, inv, call)

    async def _run(
        self, component: Component | None, inv: Invocation, call: Call[T] | None, validate: bool
    ) -> T:
        if component is None:  # invoke: the component's own handler
            component = self.catalog.get(inv.name)
            call = cast("Call[T]", component.handler)
        assert call is not None
        if not self.allows(inv.caller, component):
            raise LLMSpellError(
                ErrorCode.DENIED,
                f"{inv.caller.subject} may not call {component.kind} {component.name!r}",
            )
        if self.limiter is not None:
            await self.limiter(inv, component)
        if validate:
            self._schema(component).check(component.name, inv.arguments)
        if inv.deadline is None and self.default_timeout:
            inv.deadline = time.monotonic() + self.default_timeout

        before = self.hooks.for_point(f"before_{component.kind}", component.name)
        replaced = await self._run_before(before, component, inv, validate) if before else None
        if replaced is not None:  # a before-hook answered: the handler is skipped
            call = _answer(replaced)

        publishing = bool(self.events)
        if publishing:
            await self.events.publish("call.started", self._event(component, inv))
        started = time.perf_counter()
        try:
            if self.tracer is None:
                result = await self._call(component, inv, call)
            else:
                result = await self._traced(component, inv, call)
            if self.max_result_bytes is not None and isinstance(result, Result):
                _check_size(component, result, self.max_result_bytes)
        except LLMSpellError as exc:
            for observe in self.observers:
                observe(component, inv, time.perf_counter() - started, str(exc.code))
            if publishing:
                await self.events.publish(
                    "call.failed", self._event(component, inv, started, error=exc.to_dict())
                )
            if self.hooks.wants("error"):
                await self._on_error(component, inv, exc)
            raise
        failed = isinstance(result, Result) and result.is_error
        for observe in self.observers:
            observe(component, inv, time.perf_counter() - started, "error" if failed else "ok")

        if isinstance(result, Result):
            after = self.hooks.for_point(f"after_{component.kind}", component.name)
            if after:
                result = cast(T, await self._run_after(after, component, inv, result))
        if publishing:
            await self.events.publish(
                "call.finished", self._event(component, inv, started, is_error=failed)
            )
        return result

    async def _traced(self, component: Component, inv: Invocation, call: Call[T]) -> T:
        attributes = {
            "llmspell.component": component.name,
            "llmspell.kind": component.kind,
            "llmspell.caller": inv.caller.subject,
        }
        with self.tracer.start_as_current_span(
            f"{component.kind} {component.name}", attributes=attributes
        ) as span:
            result = await self._call(component, inv, call)
            if isinstance(result, Result) and result.is_error:
                span.set_attribute("error.type", "tool_error")
            return result

    async def _call(self, component: Component, inv: Invocation, call: Call[T]) -> T:
        task = asyncio.current_task()
        assert task is not None
        token = inv.cancel
        token.bind(task)
        entered = current.set(inv)
        try:
            if inv.deadline is None:
                return await call(inv)
            if inv.deadline <= time.monotonic():  # a call that never yields must not start
                raise TimeoutError
            async with asyncio.timeout_at(inv.deadline):
                return await call(inv)
        except LLMSpellError as exc:
            if exc.code in _SCRIPT_FAILURES:  # a script handler failed: say which component
                raise LLMSpellError(
                    ErrorCode.COMPONENT_FAILED,
                    f"{component.kind} {component.name!r} failed: {exc.message}",
                    data={"cause": str(exc.code)},
                ) from exc
            raise
        except TimeoutError:
            # What the call started on its own stops too (a JS handler's host calls are tasks
            # of their own, bound to the call's token): the token is cancelled once this task
            # no longer listens to it.
            token.unbind(task)
            token.cancel("timed out")
            raise LLMSpellError(
                ErrorCode.TIMEOUT, f"{component.kind} {component.name!r} timed out"
            ) from None
        except asyncio.CancelledError:
            if not token.cancelled:
                raise
            task.uncancel()
            reason = f": {token.reason}" if token.reason else ""
            raise LLMSpellError(
                ErrorCode.CANCELLED, f"{component.kind} {component.name!r} was cancelled{reason}"
            ) from None
        except Exception as exc:
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED,
                f"{component.kind} {component.name!r} failed: {exc}",
                data={"exception": type(exc).__name__},
            ) from exc
        finally:
            current.reset(entered)
            token.unbind(task)

    async def _run_before(
        self, hooks: list[Any], component: Component, inv: Invocation, validate: bool
    ) -> Result | None:
        """Runs the before-hooks in order; returns the result a `replace` gave, if one did
        (the call itself is then skipped; the after-hooks still see the result)."""
        ctx = self._hook_context(hooks[0].point, component, inv)
        entered = current.set(inv)  # a hook runs as part of the call: what it calls is a child
        try:
            async for outcome in outcomes(hooks, ctx):
                hook = outcome.hook
                action, payload = self._action(outcome)
                if action == "modify" and isinstance(payload.get("arguments"), dict):
                    inv.arguments = ctx["arguments"] = payload["arguments"]
                    if validate:
                        self._schema(component).check(component.name, inv.arguments)
                elif action == "cancel":
                    raise LLMSpellError(
                        ErrorCode.CANCELLED,
                        f"{component.kind} {component.name!r} cancelled by {hook.name}: "
                        f"{payload.get('reason') or 'no reason given'}",
                        data={"hook": hook.name, "reason": payload.get("reason")},
                    )
                elif action == "replace":
                    if not validate:  # a gated call (an agent's execute) returns its own type
                        raise LLMSpellError(
                            ErrorCode.COMPONENT_FAILED,
                            f"{hook.name} at {hook.point} returned replace, which only a "
                            f"catalog call can take (this is {component.kind} "
                            f"{component.name!r} run through the gate)",
                        )
                    return Result.from_plain(payload.get("result"))
        finally:
            current.reset(entered)
        return None

    async def _run_after(
        self, hooks: list[Any], component: Component, inv: Invocation, result: Result
    ) -> Result:
        ctx = self._hook_context(hooks[0].point, component, inv)
        ctx["result"] = result.to_plain()
        entered = current.set(inv)
        try:
            async for outcome in outcomes(hooks, ctx):
                action, payload = self._action(outcome)
                if action in ("modify", "replace") and "result" in payload:
                    result = Result.from_plain(payload["result"])
                    ctx["result"] = result.to_plain()
                elif action == "cancel":
                    hook = outcome.hook
                    raise LLMSpellError(
                        ErrorCode.CANCELLED,
                        f"result of {component.name!r} withheld by {hook.name}: "
                        f"{payload.get('reason') or 'no reason given'}",
                        data={"hook": hook.name, "reason": payload.get("reason")},
                    )
        finally:
            current.reset(entered)
        return result

    @staticmethod
    def _action(outcome: Outcome) -> tuple[str, dict[str, Any]]:
        """What a hook asked for ("continue" included), or its failure as the call's error."""
        hook, out, exc = outcome.hook, outcome.value, outcome.error
        if exc is not None:
            if isinstance(exc, LLMSpellError):
                raise exc
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED, f"{hook.name} at {hook.point} failed: {exc}"
            ) from exc
        if not isinstance(out, dict):
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED,
                f"{hook.name} at {hook.point} returned {type(out).__name__}; "
                "expected nothing or a table with action = continue|modify|cancel|replace",
            )
        action = out.get("action", "continue")
        if action not in ("continue", "modify", "cancel", "replace"):
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED,
                f"{hook.name} at {hook.point} returned unknown action {action!r}",
            )
        return action, out

    async def _on_error(self, component: Component, inv: Invocation, exc: LLMSpellError) -> None:
        """The `error` hook point: observers of failures, never in place of the error the
        caller gets."""
        context = self._hook_context("error", component, inv)
        context["error"] = exc.to_dict()
        context.pop("point")
        await observe(self.hooks, "error", context, component.name)

    @staticmethod
    def _hook_context(point: str, component: Component, inv: Invocation) -> dict[str, Any]:
        return {
            "point": point,
            "component": component.name,
            "kind": component.kind,
            "arguments": inv.arguments,
            "caller": inv.caller.subject,
        }

    @staticmethod
    def _event(
        component: Component, inv: Invocation, started: float | None = None, **extra: Any
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "component": component.name,
            "kind": component.kind,
            "caller": inv.caller.subject,
        }
        if started is not None:
            data["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        data.update(extra)
        return data


def _answer(result: Result) -> Call[Any]:
    """The call a `replace` hook's result stands in for."""

    async def answered(inv: Invocation) -> Result:
        return result

    return answered


def _check_size(component: Component, result: Result, cap: int) -> None:
    size = result.size()
    if size > cap:
        raise LLMSpellError(
            ErrorCode.TOO_LARGE,
            f"{component.kind} {component.name!r} returned {size} bytes; the limit is {cap}",
            data={"size": size, "limit": cap},
        )
