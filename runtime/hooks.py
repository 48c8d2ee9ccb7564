"""Hooks: interception points around every call, ordered by declared priority (as pluggy does).

A hook receives a plain dict context and may return None (continue), or a dict with
`action` = "continue" | "modify" | "cancel" | "replace". "modify" replaces `arguments`
(before) or `result` (after); "cancel" stops the call with `reason`; "replace" (before) skips
the call and answers with `result` (the after-hooks still see it).
"""

from __future__ import annotations

import fnmatch
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .events import EventBus

HookFn = Callable[[dict[str, Any]], Awaitable[Any]]


@runtime_checkable
class HookBatch(Protocol):
    """Runs several hooks in one go: a script engine enters itself once for all of its hooks
    that follow each other at a point, instead of once per hook (the entry is most of what a
    script hook costs). Each member still gets a context of its own, in order."""

    async def run_hooks(self, members: Sequence[Any], context: dict[str, Any]) -> tuple[int, Any]:
        """Call `members` in order, each with its own copy of `context`, until one returns
        something: (its index, what it returned); (len(members), None) when none did. A
        member that fails raises `BatchFailed` with its index."""
        ...


class BatchFailed(Exception):
    """Member `index` of a `HookBatch` failed with `error`."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


@dataclass(frozen=True, slots=True)
class Point:
    """One interception point: when it fires, what its context holds, and what a hook there
    may do besides continue (`modify` the named keys, `cancel`, `replace` the outcome)."""

    name: str
    when: str
    payload: tuple[str, ...]
    modifies: tuple[str, ...] = ()
    cancel: bool = False
    replace: bool = False

    @property
    def watches(self) -> bool:
        """A point whose hooks can only watch (they may not modify, cancel or replace): a
        failing hook there is logged and the others still run; it never fails what it
        watches (a write, a load, a session, the start of the gateway)."""
        return not (self.modifies or self.cancel or self.replace)


_CALL = ("component", "kind", "arguments", "caller")
_SPECS = (
    Point("before_tool", "a tool is called", _CALL, ("arguments",), True, True),
    Point("after_tool", "a tool answered", (*_CALL, "result"), ("result",), True),
    Point("before_agent", "an agent is called", _CALL, ("arguments",), True, True),
    Point("after_agent", "an agent answered", (*_CALL, "result"), ("result",), True),
    Point("before_workflow", "a workflow is called", _CALL, ("arguments",), True, True),
    Point("after_workflow", "a workflow answered", (*_CALL, "result"), ("result",), True),
    Point(
        "before_step",
        "a workflow step starts (after its arguments are known)",
        ("workflow", "step", "target", "arguments", "caller"),
        ("arguments",),
        True,
        True,
    ),
    Point(
        "after_step",
        "a workflow step finished (also when it failed)",
        ("workflow", "step", "target", "result", "status", "caller"),
        ("result",),
    ),
    Point(
        "before_llm",
        "an agent sends a request to its model",
        ("agent", "model", "messages", "tools"),
        ("messages",),
        True,
        True,
    ),
    Point(
        "after_llm",
        "the model answered",
        ("agent", "model", "response", "usage"),
        ("response",),
    ),
    Point(
        "before_upstream",
        "a call goes to a remote MCP server",
        ("server", "tool", "arguments", "caller"),
        ("arguments",),
        True,
        True,
    ),
    Point(
        "after_upstream",
        "a remote MCP server answered",
        ("server", "tool", "result", "caller"),
        ("result",),
    ),
    Point(
        "before_a2a_send",
        "a message goes to a remote A2A agent",
        ("agent", "url", "message", "caller"),
        ("message",),
        True,
    ),
    Point("after_a2a_send", "a remote A2A agent answered", ("agent", "url", "result", "caller")),
    Point(
        "a2a_task_state",
        "a task this gateway serves changes state",
        ("task_id", "context_id", "component", "state"),
    ),
    Point("mcp_session_open", "an MCP client's session starts", ("session", "client", "caller")),
    Point("mcp_session_close", "an MCP client's session ends", ("session", "caller")),
    Point("state_write", "a state key is set or deleted", ("scope", "key", "op")),
    Point("script_load", "a script was loaded", ("path", "engine", "components")),
    Point("catalog_change", "a component joined, left or was replaced", ("action", "name", "kind")),
    Point("gateway_start", "the gateway is serving", ("name", "url", "components")),
    Point("gateway_stop", "the gateway stops", ("name",)),
    Point("error", "a call failed", (*_CALL, "error")),
)
SPECS: dict[str, Point] = {p.name: p for p in _SPECS}
POINTS = tuple(SPECS)
_log = logging.getLogger("llmspell.hooks")
PRIORITIES = {"first": -100, "high": -10, "normal": 0, "low": 10, "last": 100}


@dataclass(order=True, slots=True)
class Hook:
    priority: int
    seq: int
    point: str = field(compare=False)
    fn: HookFn = field(compare=False)
    match: str | None = field(compare=False, default=None)
    name: str = field(compare=False, default="")
    id: int = field(compare=False, default=0)
    batch: HookBatch | None = field(compare=False, default=None)
    """Neighbours with the same batch run together (`outcomes`); `fn` alone does the same."""
    member: Any = field(compare=False, default=None)
    """What this hook is to its batch (a script function)."""

    def applies(self, component: str) -> bool:
        return self.match is None or fnmatch.fnmatchcase(component, self.match)


class HookRegistry:
    def __init__(self) -> None:
        self._by_point: dict[str, list[Hook]] = {}
        self._seq = itertools.count(1)
        self.events: EventBus | None = None
        """Where each point's event (`hook.<point>`) goes; the runtime plugs its bus in."""

    def wants(self, point: str) -> bool:
        """Whether anything listens at `point`, hooks or event subscribers: a caller builds
        the point's context only then, so an unwatched point costs one lookup."""
        return bool(self._by_point.get(point)) or bool(self.events)

    def register(
        self,
        point: str,
        fn: HookFn,
        *,
        priority: int | str = "normal",
        match: str | None = None,
        name: str = "",
        batch: tuple[HookBatch, Any] | None = None,
    ) -> int:
        """Register and return an id for `unregister`. Unknown points are refused, not ignored.
        `batch` is (the batch, this hook as its member), for hooks that can run together."""
        if point not in POINTS:
            raise ValueError(f"unknown hook point {point!r}; known points: {', '.join(POINTS)}")
        if isinstance(priority, str):
            if priority not in PRIORITIES:
                raise ValueError(
                    f"unknown hook priority {priority!r}; use {', '.join(PRIORITIES)} or a number"
                )
            priority = PRIORITIES[priority]
        seq = next(self._seq)
        hooks = self._by_point.setdefault(point, [])
        runner, member = batch if batch is not None else (None, None)
        hooks.append(
            Hook(int(priority), seq, point, fn, match, name or f"hook#{seq}", seq, runner, member)
        )
        hooks.sort()
        return seq

    def unregister(self, hook_id: int) -> bool:
        for hooks in self._by_point.values():
            for hook in hooks:
                if hook.id == hook_id:
                    hooks.remove(hook)
                    return True
        return False

    def for_point(self, point: str, component: str) -> list[Hook]:
        hooks = self._by_point.get(point)
        if not hooks:
            return []
        return [h for h in hooks if h.applies(component)]


@dataclass(slots=True)
class Outcome:
    """A hook that returned something, or failed (`error`)."""

    hook: Hook
    value: Any = None
    error: Exception | None = None


async def outcomes(hooks: list[Hook], context: dict[str, Any]) -> AsyncIterator[Outcome]:
    """Run `hooks` in order, each on its own shallow copy of `context` as it is when that hook
    runs (the caller applies a modify to `context` before asking for the next), yielding the
    hooks that returned something or failed; after a failure the next hooks still run if the
    caller goes on. Neighbours that share a batch run in one go."""
    i, n = 0, len(hooks)
    while i < n:
        hook = hooks[i]
        batch = hook.batch
        if batch is None:
            i += 1
            try:
                value = await hook.fn(dict(context))
            except Exception as exc:
                yield Outcome(hook, error=exc)
                continue
            if value is not None:
                yield Outcome(hook, value)
            continue
        end = i + 1
        while end < n and hooks[end].batch is batch:
            end += 1
        start = i
        try:
            k, value = await batch.run_hooks([h.member for h in hooks[start:end]], context)
        except BatchFailed as failed:
            i = start + failed.index + 1
            yield Outcome(hooks[i - 1], error=failed.error)
            continue
        i = min(start + k + 1, end)
        if value is not None:
            yield Outcome(hooks[i - 1], value)


@dataclass(slots=True)
class Fired:
    """What the hooks at a point made of it: the context (with what they modified), and
    whether one replaced the outcome (`result`)."""

    context: dict[str, Any]
    replaced: bool = False
    result: Any = None


async def fire(
    registry: HookRegistry, point: str, context: dict[str, Any], subject: str = ""
) -> Fired:
    """Run the hooks at `point` that match `subject` (a component, server or agent name), in
    priority order, then publish the event `hook.<point>`. A hook may modify the keys the
    point names, cancel (raises CANCELLED) or replace where the point allows it; anything
    else is refused by name. Callers skip building `context` unless `registry.wants(point)`."""
    from .errors import ErrorCode, LLMSpellError

    spec = SPECS[point]
    context = {"point": point, **context}
    fired = Fired(context)
    async for outcome in outcomes(registry.for_point(point, subject), context):
        hook, out, exc = outcome.hook, outcome.value, outcome.error
        if exc is not None:
            if spec.watches:
                _log.warning("hook %s at %s failed: %s", hook.name, point, exc)
                continue
            if isinstance(exc, LLMSpellError):
                raise exc
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED, f"{hook.name} at {point} failed: {exc}"
            ) from exc
        action = out.get("action", "continue") if isinstance(out, dict) else "continue"
        if out is not None and not isinstance(out, dict):
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED,
                f"{hook.name} at {point} returned {type(out).__name__}; expected nothing or a "
                "table with action = continue|modify|cancel|replace",
            )
        if action == "continue":
            continue
        can = {"modify": bool(spec.modifies), "cancel": spec.cancel, "replace": spec.replace}
        allowed = can.get(action, False)
        if not allowed:
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED,
                f"{hook.name} at {point} returned {action!r}, which {point} does not take",
            )
        assert isinstance(out, dict)
        if action == "modify":
            context.update({k: out[k] for k in spec.modifies if k in out})
        elif action == "cancel":
            raise LLMSpellError(
                ErrorCode.CANCELLED,
                f"{point} cancelled by {hook.name}: {out.get('reason') or 'no reason given'}",
                data={"hook": hook.name, "reason": out.get("reason")},
            )
        else:
            fired.replaced, fired.result = True, out.get("result")
            break
    if registry.events:
        await registry.events.publish(f"hook.{point}", context)
    return fired


async def observe(
    registry: HookRegistry, point: str, context: dict[str, Any], subject: str = ""
) -> None:
    """`fire` at a watch point (`Point.watches`), skipped outright when nothing listens."""
    assert SPECS[point].watches, f"{point} is not a watch point"
    if registry.wants(point):
        await fire(registry, point, context, subject)
