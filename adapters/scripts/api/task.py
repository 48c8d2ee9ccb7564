"""The `task` a hosted agent's handler (`Agent.define`) gets: it reports status, artifacts and a
direct reply for the one turn it serves, and is dead once the handler returns."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime import TaskReporter, TaskState

from ..engine import HostFunction
from .arguments import need, parts
from .binding import async_, sync

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    """The methods of `Task` objects."""

    def finish(state: TaskState, method: str) -> HostFunction:
        async def run(ref: Any, message: Any = None) -> None:
            await _live(host, ref).finish(state, parts(message, f"task:{method}"))

        return async_(run)

    return {
        "working": async_(partial(working, host)),
        "artifact": async_(partial(artifact, host)),
        "complete": finish("completed", "complete"),
        "fail": finish("failed", "fail"),
        "reject": finish("rejected", "reject"),
        "require_input": finish("input_required", "require_input"),
        "reply": async_(partial(reply, host)),
        "cancelled": sync(partial(cancelled, host)),
    }


def _live(host: ScriptHost, ref: Any) -> TaskReporter:
    task = host.refs.get(ref, TaskReporter)
    need(task is not None, "this task's handler has returned: use task only while it runs")
    assert task is not None
    return task


async def working(host: ScriptHost, ref: Any, message: Any = None) -> None:
    await _live(host, ref).working(parts(message, "task:working"))


async def artifact(host: ScriptHost, ref: Any, spec: Any) -> str:
    task = _live(host, ref)
    if not isinstance(spec, dict) or "parts" not in spec:
        spec = {"parts": spec}
    name, artifact_id = spec.get("name"), spec.get("id")
    need(name is None or isinstance(name, str), "task:artifact: name must be a string")
    need(artifact_id is None or isinstance(artifact_id, str), "task:artifact: id is a string")
    return await task.artifact(
        parts(spec.get("parts"), "task:artifact"),
        name=name,
        artifact_id=artifact_id,
        append=bool(spec.get("append")),
        last_chunk=bool(spec.get("last_chunk")),
    )


async def reply(host: ScriptHost, ref: Any, message: Any = None) -> None:
    await _live(host, ref).reply(parts(message, "task:reply"))


def cancelled(host: ScriptHost, ref: Any) -> bool:
    task = host.refs.get(ref, TaskReporter)
    return task is None or task.inv.cancel.cancelled
