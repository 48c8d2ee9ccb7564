"""The composition root of the core: one catalog, one pipeline, hooks, events and state together."""

from __future__ import annotations

from typing import Any

from .catalog import Catalog
from .content import Result
from .events import EventBus
from .hooks import HookRegistry
from .invocation import LOCAL, Identity, Invocation
from .pipeline import Pipeline, Policy
from .prompts import PromptRegistry
from .remote import RemoteAgents, RemoteServers
from .resources import ResourceRegistry
from .state import MemoryStateStore, StateStore


class Runtime:
    def __init__(self, *, state: StateStore | None = None, policy: Policy | None = None) -> None:
        self.catalog = Catalog()
        self.hooks = HookRegistry()
        self.events = EventBus()
        self.state: StateStore = state or MemoryStateStore()
        self.pipeline = Pipeline(self.catalog, self.hooks, self.events, policy)
        self.prompts = PromptRegistry()
        self.resources = ResourceRegistry()
        self.remote: RemoteServers | None = None
        """Remote MCP servers, when a federation is plugged in (gateway, CLI)."""
        self.a2a: RemoteAgents | None = None
        """Remote A2A agents, when the A2A client is plugged in (gateway, CLI)."""

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
