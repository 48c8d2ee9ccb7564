"""An Invocation carries all a call needs besides the component: who, what, when, and sinks."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .peer import Peer
    from .task import TaskMessage, UpdateSink

ProgressSink = Callable[[float, float | None, str | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str = "local"
    scopes: frozenset[str] = frozenset()
    claims: dict[str, Any] = field(default_factory=dict)
    credential: str | None = field(default=None, repr=False, compare=False)
    """The bearer token the caller presented, for upstreams that pass it through."""


LOCAL = Identity()


class CancelToken:
    """Cancellation both ways: a caller cancels the token; the running call sees it or stops.

    Binding the running task lets a protocol-level cancel (MCP notifications/cancelled) stop
    a call that never polls, while `cancelled` lets cooperative code (scripts) check and wind down.
    """

    __slots__ = ("__weakref__", "_children", "_reason", "_tasks", "cancelled")

    def __init__(self) -> None:
        self.cancelled = False
        self._reason: str | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._children: weakref.WeakSet[CancelToken] | None = None

    def child(self) -> CancelToken:
        """A token cancelled with this one (not the reverse): a nested call stops when the call
        that made it is cancelled. Held weakly, so finished children cost the parent nothing."""
        token = CancelToken()
        if self.cancelled:
            token.cancel(self._reason)
        else:
            if self._children is None:
                self._children = weakref.WeakSet()
            self._children.add(token)
        return token

    @property
    def reason(self) -> str | None:
        return self._reason

    def bind(self, task: asyncio.Task[Any]) -> None:
        if self.cancelled:
            task.cancel(self._reason)
        else:
            self._tasks.append(task)

    def unbind(self, task: asyncio.Task[Any]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def cancel(self, reason: str | None = None) -> None:
        tasks: dict[asyncio.Task[Any], None] = {}
        self._mark(reason, tasks)
        for task in tasks:  # once each: a nested call often runs in its parent's task
            task.cancel(reason)

    def _mark(self, reason: str | None, tasks: dict[asyncio.Task[Any], None]) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        self._reason = reason
        tasks.update(dict.fromkeys(self._tasks))
        if self._children is not None:
            for token in list(self._children):
                token._mark(reason, tasks)


@dataclass(slots=True)
class Invocation:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    caller: Identity = LOCAL
    deadline: float | None = None
    """Absolute time.monotonic() deadline; None means no per-call limit."""
    cancel: CancelToken = field(default_factory=CancelToken)
    progress: ProgressSink | None = None
    peer: Peer | None = None
    """Who called, when it can be asked things back (an MCP client: sampling, elicitation, logs)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    message: TaskMessage | None = None
    """The message an agent is asked, with its ids, when a protocol carried one (A2A)."""
    updates: UpdateSink | None = None
    """Where a task-aware component's status and artifacts go, when the caller tracks tasks."""

    @classmethod
    def create(
        cls,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Invocation:
        deadline = time.monotonic() + timeout if timeout is not None else None
        return cls(name, dict(arguments or {}), deadline=deadline, **kwargs)

    def child(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Invocation:
        """A call this call makes (a script's Tool.execute, an agent's tool call, a hook's call,
        a workflow step): the same caller and peer, a deadline no later than this one's, and a
        cancel token linked to this one's; `timeout` may only shorten the deadline. The trace
        context is OpenTelemetry's context variable, which the child's code runs under anyway.
        Progress, task updates and metadata are not inherited: the parent's code decides what
        its own caller hears of a nested call."""
        deadline = self.deadline
        if timeout is not None:
            mine = time.monotonic() + timeout
            deadline = mine if deadline is None else min(deadline, mine)
        return Invocation(
            name,
            dict(arguments or {}),
            caller=self.caller,
            deadline=deadline,
            cancel=self.cancel.child(),
            peer=self.peer,
            **kwargs,
        )

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        if self.progress is not None:
            await self.progress(progress, total, message)


def nested(
    name: str,
    arguments: dict[str, Any] | None = None,
    *,
    timeout: float | None = None,
    **kwargs: Any,
) -> Invocation:
    """The invocation for a call made from running code: a child of the call in progress when
    there is one (see `Invocation.child`), else a top-level call as the local user."""
    parent = current.get()
    if parent is None:
        return Invocation.create(name, arguments, timeout=timeout, **kwargs)
    return parent.child(name, arguments, timeout=timeout, **kwargs)


current: ContextVar[Invocation | None] = ContextVar("llmspell_invocation", default=None)
"""The invocation whose handler is running in this context, so a script's `Log` reaches the
caller that the call came from."""
