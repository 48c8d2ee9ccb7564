"""A catalog component as an A2A agent: the SDK's executor interface over the one pipeline.

The SDK's request handler owns tasks, streams and stores; this only turns one message into an
Invocation, the call's progress into `working` status updates, its result into an artifact and
a terminal state, and an A2A cancel into the call's CancelToken.
"""

from __future__ import annotations

from a2a.helpers.proto_helpers import new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import TaskState
from google.protobuf.json_format import MessageToDict
from llmspell.runtime import ErrorCode, Invocation, LLMSpellError, Runtime, TextPart

from . import translate


class ComponentExecutor(AgentExecutor):
    """Runs one component, or (`name=None`, the gateway's own endpoint) the skill a message
    names in its metadata (`{"skill": "github.create_issue"}`), else `default`."""

    def __init__(self, runtime: Runtime, name: str | None, default: str | None = None) -> None:
        self.runtime = runtime
        self.name = name
        self.default = default
        self._running: dict[str, Invocation] = {}

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
        if context.current_task is None and context.message is not None:
            await event_queue.enqueue_event(new_task_from_user_message(context.message))
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        try:
            name = self._target(context)
            component = self.runtime.catalog.get(name)
        except LLMSpellError as exc:
            await updater.reject(
                updater.new_agent_message([translate.to_part(TextPart(exc.message))])
            )
            return
        await updater.start_work()

        async def progress(done: float, total: float | None, message: str | None) -> None:
            text = message or (f"{done:g}/{total:g}" if total else f"{done:g}")
            await updater.update_status(
                TaskState.TASK_STATE_WORKING,
                message=updater.new_agent_message([translate.to_part(TextPart(text))]),
            )

        inv = Invocation(
            name,
            translate.arguments(component, context.message),
            progress=progress,
            metadata={"a2a_task": context.task_id, "a2a_context": context.context_id},
        )
        self._running[context.task_id] = inv
        try:
            result = await self.runtime.pipeline.invoke(inv)
        except LLMSpellError as exc:
            if not inv.cancel.cancelled:  # a cancel already ended the task as canceled
                message = updater.new_agent_message([translate.to_part(TextPart(exc.message))])
                await updater.failed(message)
            return
        finally:
            self._running.pop(context.task_id, None)
        if inv.cancel.cancelled:  # it wound down cooperatively after the cancel
            return
        parts = [translate.to_part(p) for p in result.parts]
        if result.is_error:
            await updater.failed(updater.new_agent_message(parts))
            return
        await updater.add_artifact(parts, name="result")
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        inv = self._running.get(context.task_id or "")
        if inv is not None:
            inv.cancel.cancel("cancelled by the A2A client")
        assert context.task_id is not None and context.context_id is not None
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()
