"""A2A on `a2a-sdk`: catalog components served as A2A agents (cards, tasks, streaming), and
remote A2A agents as catalog components. The SDK owns JSON-RPC, HTTP+JSON and the task life
cycle. Imported lazily: `llmspell run` pays for the SDK only when a script uses `A2A`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.runtime import Runtime

if TYPE_CHECKING:
    from .client import RemoteAgents


class LazyRemoteAgents:
    """The `RemoteAgents` port, importing the SDK on first use."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._agents: RemoteAgents | None = None

    @property
    def agents(self) -> RemoteAgents:
        if self._agents is None:
            from .client import RemoteAgents

            self._agents = RemoteAgents(self._runtime)
        return self._agents

    async def add(self, name: str, url: str, headers: dict[str, str] | None = None) -> Any:
        return await self.agents.add(name, url, headers)

    async def discover(self, url: str, name: str | None = None) -> dict[str, Any]:
        return await self.agents.discover(url, name)

    async def send(
        self, agent: str, parts: list[Any], on_update: Any | None = None
    ) -> dict[str, Any]:
        return await self.agents.send(agent, parts, on_update)

    async def get_task(self, agent: str, task_id: str) -> dict[str, Any]:
        return await self.agents.get_task(agent, task_id)

    async def aclose(self) -> None:
        if self._agents is not None:
            await self._agents.aclose()
