"""What a workflow is: plain data naming its steps and how they are combined.

Nothing here knows a script language or a config format. What varies per run (a step's
arguments, a branch's predicate, a loop's list, a stream's source, the output) is an async
function of the run context; the scripts adapter wraps script functions as such, the gateway
wraps `${...}` templates from `llmspell.toml`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..component import EMPTY_OBJECT_SCHEMA

if TYPE_CHECKING:
    from .context import RunContext

Fn = Callable[["RunContext"], Awaitable[Any]]
"""A function of the run context: arguments, a predicate, an inline step, the output."""
Emit = Callable[[Any], Awaitable[None]]
"""Hands one item to a stream's steps; suspends while the buffer is full (backpressure)."""
Source = Callable[[Emit, "RunContext"], Awaitable[Any]]

DEFAULT_MAX_ITERATIONS = 100
DEFAULT_BUFFER = 16


@dataclass(frozen=True, slots=True)
class Retry:
    """`max` more attempts after the first, waiting `backoff` seconds, doubled each time."""

    max: int = 0
    backoff: float = 0.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt` (2 is the first retry)."""
        return self.backoff * 2 ** (attempt - 2) if self.backoff > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Step:
    """One step: a catalog component (`target`: a tool, agent, workflow, `server.tool`, remote
    agent) or an inline function (`run`). `args` is a table or a function of the context; a
    string becomes `{text = ...}` (what agents take)."""

    name: str
    target: str | None = None
    run: Fn | None = None
    args: Mapping[str, Any] | str | Fn | None = None
    retry: Retry = Retry()
    timeout: float | None = None
    on_error: Literal["fail", "continue"] | Step = "fail"

    def __post_init__(self) -> None:
        if (self.target is None) == (self.run is None):
            raise ValueError(f"step {self.name!r}: give exactly one of a component or `run`")


@dataclass(frozen=True, slots=True)
class Branch:
    """A conditional's branch (`when`, or `otherwise`) or a parallel branch."""

    name: str
    steps: tuple[Step, ...]
    when: Fn | None = None
    otherwise: bool = False


@dataclass(frozen=True, slots=True)
class Sequential:
    steps: tuple[Step, ...]
    pattern: Literal["sequential"] = "sequential"


@dataclass(frozen=True, slots=True)
class Conditional:
    """The first branch whose `when` holds runs; else the `otherwise` branch; else an error."""

    branches: tuple[Branch, ...]
    pattern: Literal["conditional"] = "conditional"


@dataclass(frozen=True, slots=True)
class Loop:
    """The steps once per item of `over`, or while `while_` holds; never more than
    `max_iterations` times. A step may end the loop (`RunContext.break_loop`)."""

    steps: tuple[Step, ...]
    over: Fn | None = None
    while_: Fn | None = None
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    pattern: Literal["loop"] = "loop"


@dataclass(frozen=True, slots=True)
class Parallel:
    """Branches at once, at most `max_concurrency` (None: all). `join="all"` waits for every
    branch, `"any"` for the first that succeeds (the rest are cancelled). `fail_fast` cancels
    the siblings of a failed branch; otherwise failures are collected."""

    branches: tuple[Branch, ...]
    max_concurrency: int | None = None
    join: Literal["all", "any"] = "all"
    fail_fast: bool = False
    pattern: Literal["parallel"] = "parallel"


@dataclass(frozen=True, slots=True)
class Stream:
    """`source` emits items into a queue of `buffer`; `workers` consumers run the steps per
    item. A full queue suspends the source, so memory stays bounded however many items flow."""

    source: Source
    steps: tuple[Step, ...]
    buffer: int = DEFAULT_BUFFER
    workers: int = 1
    stream_results: bool = False
    """Hand each item's result to the caller as it is done: an A2A artifact chunk (`items`),
    and the text of MCP progress. Off, the caller hears `item N` and the run keeps counts."""
    pattern: Literal["stream"] = "stream"


Pattern = Sequential | Conditional | Loop | Parallel | Stream


@dataclass(frozen=True, slots=True)
class Workflow:
    name: str
    body: Pattern
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=lambda: dict(EMPTY_OBJECT_SCHEMA))
    output: Fn | None = None
    """What the workflow returns; default the last step's result."""
    source: str = "workflow"
    """Who defined it (script:<file>, config), as a Component's source."""

    @property
    def pattern(self) -> str:
        return self.body.pattern
