"""The composition root of the core: one catalog, one pipeline, hooks, events and state together."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .catalog import Catalog, CatalogChange
from .component import Component
from .content import ResourcePart, Result
from .events import EventBus
from .hooks import HookRegistry, observe
from .invocation import LOCAL, Identity, Invocation
from .observed_state import ObservedState
from .pipeline import Pipeline, Policy
from .prompts import Prompt, PromptMessage, PromptRegistry
from .resources import Resource, ResourceRegistry
from .state import MemoryStateStore, StateStore

if TYPE_CHECKING:
    from .knowledge import Knowledge
    from .remote import RemoteAgents, RemoteServers


class Runtime:
    def __init__(self, *, state: StateStore | None = None, policy: Policy | None = None) -> None:
        self.catalog = Catalog()
        self.hooks = HookRegistry()
        self.events = EventBus()
        self.hooks.events = self.events
        self._announcing: set[asyncio.Task[Any]] = set()
        self.catalog.on_change(self._changed)
        self.state: StateStore = ObservedState(state or MemoryStateStore(), self.hooks)
        """The store, seen through the `state_write` hook point."""
        self.pipeline = Pipeline(self.catalog, self.hooks, self.events, policy)
        self.prompts = PromptRegistry()
        self.resources = ResourceRegistry()
        self.remote: RemoteServers | None = None
        """Remote MCP servers, when a federation is plugged in (gateway, CLI)."""
        self.a2a: RemoteAgents | None = None
        """Remote A2A agents, when the A2A client is plugged in (gateway, CLI)."""
        self.knowledge: Knowledge | None = None
        """The RAG collections, when the assembly plugs them in."""

    def _changed(self, change: CatalogChange) -> None:
        """The `catalog_change` hook point. Catalog changes are announced synchronously, so
        the hooks run in a task of their own when a loop runs (start-up in a CLI has none)."""
        if not self.hooks.wants("catalog_change"):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        said = {"action": change.action, "name": change.name, "kind": change.kind}
        task = loop.create_task(observe(self.hooks, "catalog_change", said, change.name))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def render_prompt(self, inv: Invocation) -> list[PromptMessage]:
        """`inv.name` is the prompt; it passes the pipeline's gate (policy, limits, metrics,
        events) as a component of kind `prompt` would."""
        prompt = self.prompts.get(inv.name)
        return await self.pipeline.gate(
            gated(prompt), inv, lambda i: self.prompts.render(i.name, dict(i.arguments))
        )

    async def read_resource(self, inv: Invocation) -> list[ResourcePart]:
        """`inv.name` is the URI; gated as a component of kind `resource` named by the URI the
        resource was registered under (a template's own URI), so one policy rule covers it."""
        resource, params = self.resources.resolve(inv.name)
        return await self.pipeline.gate(
            gated(resource), inv, lambda i: resource.read(i.name, params)
        )

    async def call(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        caller: Identity = LOCAL,
        timeout: float | None = None,  # noqa: ASYNC109 - the call's deadline, not this coroutine's
    ) -> Result:
        """Convenience for library users: build an Invocation and send it down the pipeline."""
        return await self.pipeline.invoke(
            Invocation.create(name, arguments, timeout=timeout, caller=caller)
        )


def gated(item: Prompt | Resource) -> Component:
    """What the pipeline's gate (and a listing's policy check) sees of a prompt or a resource:
    a component of kind `prompt` or `resource`, named by the prompt's name or the URI the
    resource was registered under, which is never called as a handler."""
    if isinstance(item, Prompt):
        return Component(item.name, _ungated, "prompt", item.description, source=item.source)
    return Component(item.uri, _ungated, "resource", item.description, source=item.source)


async def _ungated(inv: Invocation) -> Result:
    raise AssertionError("a prompt or resource runs through Pipeline.gate, not as a handler")
