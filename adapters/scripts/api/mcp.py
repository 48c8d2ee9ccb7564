"""`MCP`: remote MCP servers joining the catalog (their tools become `server.tool`, callable with
`Tool.execute`), and the script answering their own requests when no client is there to."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime import TextPart
from llmspell.runtime.content import part_to_plain
from llmspell.runtime.peer import ElicitReply, SamplingReply, SamplingRequest

from ..engine import HostFunction, ScriptFunction
from .arguments import need, plugged
from .binding import async_, sync
from .log import display

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {
        "connect": async_(partial(connect, host)),
        "disconnect": async_(partial(disconnect, host)),
        "servers": sync(partial(servers, host)),
        "tools": sync(partial(tools, host)),
    }


async def connect(host: ScriptHost, spec: Any) -> dict[str, Any]:
    """`MCP.connect{name=, command=, args=, env=}` or `MCP.connect{name=, url=, headers=}`, with
    `on_sample=` / `on_elicit=` functions to answer the server's requests, and `auth = "oauth"`
    with `oauth = {...}` (`oauth_env = NAME` adds settings from a JSON object in that
    environment variable, so secrets need not pass through the script)."""
    need(isinstance(spec, dict), "MCP.connect{name=..., command=... or url=...}")
    handlers = {k: spec.pop(k) for k in ("on_sample", "on_elicit") if k in spec}
    for key, fn in handlers.items():
        need(isinstance(fn, ScriptFunction), f"MCP.connect: {key} must be a function")
    peer = ScriptPeer(handlers.get("on_sample"), handlers.get("on_elicit"))
    remote = plugged(host.runtime.remote, "MCP")
    info = await remote.connect(spec, peer=peer if handlers else None)
    host.servers.append(info["name"])
    return info


async def disconnect(host: ScriptHost, name: Any) -> None:
    need(isinstance(name, str), "MCP.disconnect(name): name must be a string")
    await plugged(host.runtime.remote, "MCP").disconnect(name)
    if name in host.servers:
        host.servers.remove(name)


def servers(host: ScriptHost) -> list[dict[str, Any]]:
    return host.runtime.remote.servers() if host.runtime.remote is not None else []


def tools(host: ScriptHost, server: Any) -> list[dict[str, Any]]:
    need(isinstance(server, str), "MCP.tools(server): server must be a string")
    return plugged(host.runtime.remote, "MCP").tools(server)


@dataclass(slots=True)
class ScriptPeer:
    """A script answering an MCP server's own requests (`MCP.connect{on_sample=, on_elicit=}`)
    when no downstream client is there to: `llmspell run` has none."""

    on_sample: ScriptFunction | None = None
    on_elicit: ScriptFunction | None = None

    def supports(self, feature: str) -> bool:
        return (feature == "sampling" and self.on_sample is not None) or (
            feature == "elicitation" and self.on_elicit is not None
        )

    async def sample(self, request: SamplingRequest) -> SamplingReply:
        fn = self.on_sample
        assert fn is not None
        value = await fn.engine.call(
            fn,
            {
                "messages": [
                    {"role": m.role, "content": part_to_plain(m.content)} for m in request.messages
                ],
                "text": "\n".join(
                    m.content.text for m in request.messages if isinstance(m.content, TextPart)
                ),
                "max_tokens": request.max_tokens,
                "system_prompt": request.system_prompt,
            },
        )
        if isinstance(value, dict):
            return SamplingReply(TextPart(str(value.get("text", ""))), value.get("model"))
        return SamplingReply(TextPart(display(value)), "script")

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitReply:
        fn = self.on_elicit
        assert fn is not None
        value = await fn.engine.call(fn, {"message": message, "schema": schema})
        need(
            isinstance(value, dict) and value.get("action") in ("accept", "decline", "cancel"),
            "on_elicit returns {action = accept|decline|cancel, content = {...}}",
        )
        content = value.get("content")
        return ElicitReply(value["action"], dict(content) if isinstance(content, dict) else None)

    def log(self, level: str, data: Any, logger: str | None = None) -> None:
        return None
