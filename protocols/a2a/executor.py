"""A catalog component as an A2A agent: the SDK's executor interface over the one pipeline.

The SDK's request handler owns tasks, streams and stores; this only turns one message into an
Invocation, the call's progress into `working` status updates, its result into an artifact and
a terminal state, and an A2A cancel into the call's CancelToken.
"""

from __future__ import annotations

import uuid

from a2a.helpers.proto_helpers import new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import Message
from a2a.types import TaskState as TaskState_
from a2a.utils.errors import InvalidParamsError
from google.protobuf.json_format import MessageToDict
from llmspell.runtime import (
    ArtifactUpdate,
    ErrorCode,
    Invocation,
    LLMSpellError,
    Reply,
    Runtime,
    StatusUpdate,
    TaskState,
    TaskUpdate,
    TextPart,
)
from llmspell.runtime import Part as RuntimePart
from llmspell.runtime.hooks import HookRegistry, fire

from . import identity, translate

ELSEWHERE = "cancelled through another replica"
"""The reason of a cancel that reached the call through the cancel channel, not the SDK."""


class ComponentExecutor(AgentExecutor):
    """Runs one component, or (`name=None`, the gateway's own endpoint) the skill a message
    names in its metadata (`{"skill": "github.create_issue"}`), else `default`."""

    def __init__(
        self,
        runtime: Runtime,
        name: str | None,
        default: str | None = None,
        running: dict[str, Invocation] | None = None,
    ) -> None:
        self.runtime = runtime
        self.name = name
        self.default = default
        self._running: dict[str, Invocation] = {} if running is None else running
        """Task id -> the call running it; the server shares one map across its endpoints, so
        a cancel from another replica finds the call (`stop`)."""

    def _target(self, context: RequestContext) -> str:
        if self.name is not None:
            return self.name
        skill = context.metadata.get("skill") if context.metadata else None
        if context.message is not None and not skill:
            meta = MessageToDict(context.message.metadata)
            skill = meta.get("skill")
        if isinstance(skill, str) and skill:
            return skill
        if self.default is not None:
            return self.default
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            'say which skill to run: message metadata {"skill": "<name>"} (the card lists them)',
        )

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id is not None and context.context_id is not None
        events = _TaskEvents(context, event_queue, self.runtime.hooks)
        caller = identity.caller(context.call_context)
        try:
            name = events.component = self._target(context)
            component = self.runtime.catalog.get(name)  # its schema reads the message
        except LLMSpellError as exc:
            await events.end("rejected", [TextPart(exc.message)])
            return
        if not component.task_aware:
            await events.start()  # the task and `working` at once: a plain call says no more

        async def progress(done: float, total: float | None, message: str | None) -> None:
            """A bare step count (no message, no total) says nothing a reader can use."""
            text = message or (f"{done:g}/{total:g}" if total else None)
            if text:
                await events.send(StatusUpdate("working", [TextPart(text)]))

        inv = Invocation(
            name,
            translate.arguments(component, context.message),
            progress=progress,
            caller=caller,
            metadata={"a2a_task": context.task_id, "a2a_context": events.context_id},
            message=translate.task_message(context.message, context.task_id, events.context_id),
            updates=events.send,
        )
        self._running[context.task_id] = inv
        try:
            result = await self.runtime.pipeline.invoke(inv)
        except LLMSpellError as exc:
            if inv.cancel.cancelled or events.ended:
                await _stopped(inv, events)
                return
            if exc.code == ErrorCode.DENIED and not self.runtime.pipeline.allows(caller, component):
                # The gate refused this call itself (not a call it made): A2A's `rejected`.
                await events.end("rejected", [TextPart(f"{caller.subject} may not call {name!r}")])
                return
            await events.end("failed", [TextPart(exc.message)])
            return
        finally:
            self._running.pop(context.task_id, None)
        if inv.cancel.cancelled or events.ended:  # canceled, or it ended the task itself
            await _stopped(inv, events)
            return
        if result.is_error:
            await events.end("failed", result.parts)
            return
        await events.send(ArtifactUpdate(result.parts, uuid.uuid4().hex, "result"))
        await events.end("completed", [])

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        inv = self._running.get(context.task_id or "")
        if inv is not None:
            inv.cancel.cancel("cancelled by the A2A client")
        assert context.task_id is not None
        await TaskUpdater(event_queue, context.task_id, _context_id(context)).cancel()


def stop(running: dict[str, Invocation], task_id: str) -> bool:
    """Cancel the call running `task_id` here, for a cancel received elsewhere; the executor
    then ends the task `canceled` itself (the SDK's cancel, which would, ran elsewhere)."""
    inv = running.get(task_id)
    if inv is None:
        return False
    inv.cancel.cancel(ELSEWHERE)
    return True


async def _stopped(inv: Invocation, events: _TaskEvents) -> None:
    if inv.cancel.reason == ELSEWHERE and not events.ended:
        await events.end("canceled", [TextPart(ELSEWHERE)])


_STATES = {
    "working": TaskState_.TASK_STATE_WORKING,
    "input_required": TaskState_.TASK_STATE_INPUT_REQUIRED,
    "completed": TaskState_.TASK_STATE_COMPLETED,
    "failed": TaskState_.TASK_STATE_FAILED,
    "rejected": TaskState_.TASK_STATE_REJECTED,
    "canceled": TaskState_.TASK_STATE_CANCELED,
}


def _context_id(context: RequestContext) -> str:
    """A follow-up message that names only its task gets a fresh context id from the SDK; the
    task's own context is the one its events must carry."""
    if context.current_task is not None and context.current_task.context_id:
        return str(context.current_task.context_id)
    assert context.context_id is not None
    return context.context_id


class _TaskEvents:
    """Runtime task updates as SDK events for one request. The Task itself is enqueued on the
    first update, not before: an agent that answers with a plain message (`Reply`) must send
    it as the only event."""

    def __init__(self, context: RequestContext, queue: EventQueue, hooks: HookRegistry) -> None:
        assert context.task_id is not None
        self.hooks = hooks
        self.component = ""
        self.context = context
        self.queue = queue
        self.context_id = _context_id(context)
        self.updater = TaskUpdater(queue, context.task_id, self.context_id)
        self._created = context.current_task is not None
        self.ended = False

    def _message(self, parts: list[RuntimePart]) -> Message:
        return self.updater.new_agent_message([translate.to_part(p) for p in parts])

    async def _create(self) -> None:
        if not self._created and self.context.message is not None:
            try:
                task = new_task_from_user_message(self.context.message)
            except ValueError as exc:  # not a user's message, or an empty text part
                raise InvalidParamsError(f"the message cannot start a task: {exc}") from None
            await self.queue.enqueue_event(task)
        self._created = True

    async def start(self) -> None:
        await self._create()
        await self.updater.start_work()
        await self._announce("working")

    async def end(self, state: TaskState, parts: list[RuntimePart]) -> None:
        await self.send(StatusUpdate(state, parts))

    async def send(self, update: TaskUpdate) -> None:
        if isinstance(update, Reply):
            message = self._message(update.parts)
            message.ClearField("task_id")  # no task is created: the reply is the whole answer
            await self.queue.enqueue_event(message)
            self.ended = True
            return
        await self._create()
        if isinstance(update, ArtifactUpdate):
            await self.updater.add_artifact(
                [translate.to_part(p) for p in update.parts],
                artifact_id=update.artifact_id,
                name=update.name,
                append=update.append or None,
                last_chunk=update.last_chunk or None,
            )
            return
        status = self._message(update.parts) if update.parts else None
        await self.updater.update_status(_STATES[update.state], message=status)
        if update.state != "working":
            self.ended = True
        await self._announce(update.state)

    async def _announce(self, state: TaskState) -> None:
        """The `a2a_task_state` hook point (and its event), when anything listens there."""
        if self.hooks.wants("a2a_task_state"):
            said = {
                "task_id": self.context.task_id,
                "context_id": self.context_id,
                "component": self.component,
                "state": state,
            }
            await fire(self.hooks, "a2a_task_state", said, self.component)
