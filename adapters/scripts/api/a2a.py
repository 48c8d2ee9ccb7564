"""`A2A`: remote A2A agents. `A2A.send` passes the pipeline's gate as a call of the agent's
catalog component (policy, `before_agent` hooks, limits, metrics, events), as a child of the call
in progress, so a rule or hook written for the agent applies however it is reached."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Invocation, Part, TextPart
from llmspell.runtime.content import part_to_plain
from llmspell.runtime.invocation import nested

from ..engine import HostFunction, ScriptFunction
from .arguments import as_object, need, parts, plugged
from .binding import async_

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {
        "discover": async_(partial(discover, host)),
        "send": async_(partial(send, host)),
        "get_task": async_(partial(get_task, host)),
    }


async def discover(host: ScriptHost, url: Any, name: Any = None) -> dict[str, Any]:
    need(isinstance(url, str), "A2A.discover(url): url must be a string")
    agents = plugged(host.runtime.a2a, "A2A")
    return await agents.discover(url, name if isinstance(name, str) else None)


async def send(host: ScriptHost, agent: Any, message: Any, opts: Any = None) -> dict[str, Any]:
    """`A2A.send(agent, "text" | {parts...}, {stream=true, on_update=function(u) end})`; `agent`
    is a name or a URL (discovered first)."""
    need(isinstance(agent, str), "A2A.send(agent, message, opts): agent is a name or URL")
    options = as_object(opts, "A2A.send: opts")
    need(message is not None, "A2A.send: message is a string, a part or a list of parts")
    sent = parts(message, "A2A.send")
    callback = options.get("on_update")
    need(
        callback is None or isinstance(callback, ScriptFunction),
        "A2A.send: on_update must be a function",
    )
    on_update = None
    if callback is not None and options.get("stream", True):

        async def on_update(update: dict[str, Any]) -> None:
            plain = {k: v for k, v in update.items() if k != "parts"}
            if "parts" in update:
                plain["parts"] = [part_to_plain(p) for p in update["parts"]]
            await callback.engine.call(callback, plain)

    agents = plugged(host.runtime.a2a, "A2A")
    name = agent
    if agent.startswith(("http://", "https://")):
        name = (await agents.discover(agent))["name"]
    text = _text(sent)

    async def call(inv: Invocation) -> dict[str, Any]:
        asked = inv.arguments.get("text", text)  # as a before_agent hook may have changed it
        out = sent if asked == text else [TextPart(str(asked)), *_not_text(sent)]
        reply: dict[str, Any] = await agents.send(name, out, on_update)
        return reply

    component = host.runtime.catalog.find(name)
    if component is None:  # not an agent the client added: it refuses, naming the known ones
        reply = await agents.send(name, sent, on_update)
    else:
        reply = await host.runtime.pipeline.gate(component, nested(name, {"text": text}), call)
    return {**reply, "parts": [part_to_plain(p) for p in reply["parts"]]}


async def get_task(host: ScriptHost, agent: Any, task_id: Any) -> dict[str, Any]:
    need(isinstance(agent, str) and isinstance(task_id, str), "A2A.get_task(agent, id)")
    return await plugged(host.runtime.a2a, "A2A").get_task(agent, task_id)


def _text(sent: list[Part]) -> str:
    return "\n".join(p.text for p in sent if isinstance(p, TextPart))


def _not_text(sent: list[Part]) -> list[Part]:
    return [p for p in sent if not isinstance(p, TextPart)]
