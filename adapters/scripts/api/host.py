"""One script's view of the runtime: the host that the namespace modules bind to, and the API
table (`ApiSpec`) it assembles from them for an engine to install."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import ApiSpec, Builder
from . import (
    a2a,
    agent,
    call,
    event,
    hook,
    json,
    log,
    mcp,
    prompt,
    rag,
    resource,
    state,
    task,
    tool,
    workflow,
)
from .arguments import need
from .binding import async_, notify
from .log import Writer, to_stderr, to_stdout
from .refs import Refs

if TYPE_CHECKING:
    from llmspell.runtime import Component, Runtime
    from llmspell.runtime.knowledge import Knowledge


@dataclass(slots=True)
class ScriptHost:
    """Binds one script's view of the runtime. `source` names the script for catalog entries."""

    runtime: Runtime
    source: str = "script"
    args: list[str] = field(default_factory=list)
    stdout: Writer = to_stdout
    stderr: Writer = to_stderr
    log_level: int = 20
    roots: Sequence[Path] | None = None
    """Where agents the script creates may read image files; default the working directory."""
    defined: list[str] = field(default_factory=list)
    """Components this script registered, so a reload can take them back."""
    prompts: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    """Remote MCP servers this script connected; disconnected when it is closed."""
    refs: Refs = field(default_factory=Refs)
    """The objects the script holds by number: tool calls' `ctx`, hosted agents' `task`,
    agents."""
    state_scopes: dict[str, int] = field(default_factory=dict)
    """The ref of each `State.scope(name)` the script opened."""
    knowledge: Knowledge | None = None
    """The script's own in-memory collections, when the runtime has no knowledge."""

    def spec(self) -> ApiSpec:
        return ApiSpec(
            namespaces={
                "Tool": tool.bind(self),
                "State": state.bind(self),
                "Event": event.bind(self),
                "Hook": hook.bind(self),
                "JSON": json.bind(self),
                "Agent": agent.bind(self),
                "Prompt": prompt.bind(self),
                "A2A": a2a.bind(self),
                "MCP": mcp.bind(self),
                "Resource": resource.bind(self),
                "Log": log.bind(self),
                "Workflow": workflow.bind(self),
                "RAG": rag.bind(self),
            },
            functions={"print": notify(partial(log.print_, self)), "sleep": async_(sleep)},
            values={"ARGS": list(self.args)},
            types={
                "Call": call.bind(self),
                "Task": task.bind(self),
                "Agent": agent.bind_methods(self),
                "Workflow": workflow.bind_methods(self),
                "RunContext": workflow.bind_context(self),
                "Emit": workflow.bind_emit(self),
                state.SCOPE_TYPE: state.bind_methods(self),
                rag.TYPE: rag.bind_methods(self),
            },
            builders={"Agent": Builder(agent.FIELDS, "create")},
        )

    def register(self, component: Component) -> None:
        """Add a component the script defines; defining its own again replaces it, while a name
        that something else registered is refused."""
        mine = component.name in self.defined
        self.runtime.catalog.register(component, replace=mine)
        if not mine:
            self.defined.append(component.name)

    async def aclose(self) -> None:
        """Release what the script opened: its agents' provider connections, its MCP servers."""
        await self.refs.aclose()
        if self.runtime.remote is not None:
            for name in self.servers:
                await self.runtime.remote.disconnect(name)
        self.servers.clear()


async def sleep(seconds: Any) -> None:
    need(isinstance(seconds, int | float) and seconds >= 0, "sleep(seconds) takes a number >= 0")
    await asyncio.sleep(float(seconds))
