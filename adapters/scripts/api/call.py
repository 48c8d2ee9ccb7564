"""The `ctx` a script tool's handler gets: its caller, progress, logs, sampling, elicitation and
cancellation, all of the one call it serves. It is dead once the handler returns."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime import ErrorCode, Invocation, LLMSpellError, TextPart
from llmspell.runtime.content import part_to_plain
from llmspell.runtime.peer import LOG_LEVELS, SamplingRequest, unsupported

from ..engine import HostFunction
from .arguments import need
from .binding import async_, notify, sync
from .log import log
from .prompt import prompt_messages

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    """The methods of `Call` objects (a handler's `ctx`)."""
    return {
        "progress": async_(partial(progress, host)),
        "log": notify(partial(call_log, host)),
        "sample": async_(partial(sample, host)),
        "elicit": async_(partial(elicit, host)),
        "cancelled": sync(partial(cancelled, host)),
    }


def _live(host: ScriptHost, ref: Any) -> Invocation:
    inv = host.refs.get(ref, Invocation)
    need(inv is not None, "this call has finished: use ctx only while the handler runs")
    assert inv is not None
    if inv.cancel.cancelled:
        raise LLMSpellError(ErrorCode.CANCELLED, "the call was cancelled by its caller")
    return inv


async def progress(
    host: ScriptHost, ref: Any, done: Any, total: Any = None, message: Any = None
) -> None:
    inv = _live(host, ref)
    need(isinstance(done, int | float), "ctx:progress(progress, total, message)")
    await inv.report_progress(
        float(done),
        float(total) if isinstance(total, int | float) else None,
        message if isinstance(message, str) else None,
    )


def call_log(host: ScriptHost, ref: Any, level: Any, *parts: Any) -> None:
    log(host, level if level in LOG_LEVELS else "info", parts, host.refs.get(ref, Invocation))


async def sample(host: ScriptHost, ref: Any, request: Any) -> dict[str, Any]:
    inv = _live(host, ref)
    if inv.peer is None or not inv.peer.supports("sampling"):
        raise unsupported("sampling")
    reply = await inv.peer.sample(sampling_request(request))
    return {
        "text": reply.content.text if isinstance(reply.content, TextPart) else "",
        "role": reply.role,
        "content": part_to_plain(reply.content),
        "model": reply.model,
        "stop_reason": reply.stop_reason,
    }


async def elicit(host: ScriptHost, ref: Any, request: Any) -> dict[str, Any]:
    inv = _live(host, ref)
    if inv.peer is None or not inv.peer.supports("elicitation"):
        raise unsupported("elicitation")
    need(isinstance(request, dict), "ctx:elicit{message=..., schema=...}")
    message, schema = request.get("message"), request.get("schema")
    need(isinstance(message, str), "ctx:elicit: message must be a string")
    need(isinstance(schema, dict), "ctx:elicit: schema must be a table/object")
    reply = await inv.peer.elicit(message, schema)
    return {"action": reply.action, "content": reply.content}


def cancelled(host: ScriptHost, ref: Any) -> bool:
    inv = host.refs.get(ref, Invocation)
    return inv is None or inv.cancel.cancelled


def sampling_request(value: Any) -> SamplingRequest:
    """`ctx:sample("prompt")` or `ctx:sample{messages=..., max_tokens=..., system_prompt=...}`."""
    if isinstance(value, str):
        value = {"prompt": value}
    need(isinstance(value, dict), "ctx:sample takes a prompt string or a table/object")
    messages = value.get("messages")
    if messages is None:
        need(isinstance(value.get("prompt"), str), "ctx:sample: give prompt or messages")
        messages = value["prompt"]
    temperature = value.get("temperature")
    system = value.get("system_prompt")
    return SamplingRequest(
        prompt_messages(messages, "ctx:sample"),
        int(value.get("max_tokens") or 1000),
        system if isinstance(system, str) else None,
        float(temperature) if isinstance(temperature, int | float) else None,
    )
