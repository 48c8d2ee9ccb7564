"""A task's life, in no protocol's terms: what a long-running agent reports while it runs
(status, artifacts, a direct reply) besides its final Result.

A caller that knows tasks (the A2A server) hands the invocation an `updates` sink and turns
each update into a task event. A caller that does not (MCP, a script, the CLI) gets status text
as progress and a Result that folds in the artifacts, so one agent serves both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .content import Part, Result, TextPart
from .errors import ErrorCode, LLMSpellError

if TYPE_CHECKING:
    from .invocation import Invocation

TaskState = Literal["working", "input_required", "completed", "failed", "rejected", "canceled"]
ENDED: frozenset[str] = frozenset({"input_required", "completed", "failed", "rejected", "canceled"})
"""States after which the agent says nothing more in this turn (input_required waits for the
next message, the others are terminal)."""


@dataclass(frozen=True, slots=True)
class TaskMessage:
    """What an agent is asked, with the ids that tie it to a conversation and a task."""

    parts: list[Part]
    id: str = field(default_factory=lambda: _new_id())
    context_id: str | None = None
    task_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    state: TaskState
    parts: list[Part] = field(default_factory=list)
    """The message that goes with the state (a question for input_required, an error...)."""


@dataclass(frozen=True, slots=True)
class ArtifactUpdate:
    parts: list[Part]
    artifact_id: str
    name: str | None = None
    append: bool = False
    """Add these parts to the artifact with this id instead of replacing it (streamed chunks)."""
    last_chunk: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer as a plain message: no task is created."""

    parts: list[Part]


TaskUpdate = StatusUpdate | ArtifactUpdate | Reply
UpdateSink = Callable[[TaskUpdate], Awaitable[None]]


class TaskReporter:
    """What a hosted agent's `task` object does: checks the life cycle (nothing after the task
    ended), sends updates to the invocation's sink, and builds the Result the handler returns.

    Without a sink, `working` text becomes progress and artifacts are kept, so the Result holds
    every artifact's parts and then the final message."""

    def __init__(self, inv: Invocation) -> None:
        self.inv = inv
        self.state: TaskState | Literal["replied"] | None = None
        self.message: list[Part] = []
        self.artifacts: dict[str, list[Part]] = {}
        self._names: dict[str, str] = {}
        self._steps = 0

    @property
    def ended(self) -> bool:
        return self.state in ENDED or self.state == "replied"

    def _check(self, action: str) -> None:
        if self.ended:
            state = "answered" if self.state == "replied" else str(self.state).replace("_", "-")
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, f"task:{action}: the task is already {state}"
            )

    async def _send(self, update: TaskUpdate) -> None:
        if self.inv.updates is not None:
            await self.inv.updates(update)

    async def working(self, parts: list[Part]) -> None:
        self._check("working")
        self.state = "working"
        if self.inv.updates is not None:
            await self.inv.updates(StatusUpdate("working", parts))
            return
        self._steps += 1
        text = "\n".join(p.text for p in parts if isinstance(p, TextPart)) or None
        await self.inv.report_progress(float(self._steps), None, text)

    async def artifact(
        self,
        parts: list[Part],
        *,
        name: str | None = None,
        artifact_id: str | None = None,
        append: bool = False,
        last_chunk: bool = False,
    ) -> str:
        """Returns the artifact's id. An append with no id continues the last artifact of that
        name (or the last artifact), so chunked output needs no bookkeeping in the script."""
        self._check("artifact")
        if artifact_id is None:
            if append and self.artifacts:
                artifact_id = self._names.get(name or "") or next(reversed(self.artifacts))
            else:
                artifact_id = _new_id()
        kept = self.artifacts.setdefault(artifact_id, [])
        if append:
            kept.extend(parts)
        else:
            kept[:] = parts
        if name:
            self._names[name] = artifact_id
        await self._send(ArtifactUpdate(parts, artifact_id, name, append, last_chunk))
        return artifact_id

    async def finish(self, state: TaskState, parts: list[Part]) -> None:
        """complete / fail / reject / require_input (and canceled, for a cooperative stop)."""
        self._check(state)
        self.state = state
        self.message = parts
        await self._send(StatusUpdate(state, parts))

    async def reply(self, parts: list[Part]) -> None:
        self._check("reply")
        if self.state is not None or self.artifacts:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                "task:reply: a reply replaces the task, so it must come before any update",
            )
        self.state = "replied"
        self.message = parts
        await self._send(Reply(parts))

    async def result(self, returned: Result | None) -> Result:
        """The handler is done: a value it returned completes a task it had not ended."""
        if not self.ended:
            await self.finish("completed", returned.parts if returned is not None else [])
        parts = [p for kept in self.artifacts.values() for p in kept] + self.message
        return Result(parts, is_error=self.state in ("failed", "rejected"))


def _new_id() -> str:
    """A fresh uuid4 hex; `uuid` (which imports `platform`) is loaded on the first task."""
    import uuid

    return uuid.uuid4().hex
